// Apache ECharts, only the parts the pages draw (tree-shaken by Vite).
import * as echarts from 'echarts/core';
import { BarChart, HeatmapChart, LineChart, PieChart, SankeyChart, ScatterChart } from 'echarts/charts';
import {
  DataZoomComponent,
  GridComponent,
  LegendComponent,
  MarkLineComponent,
  TitleComponent,
  TooltipComponent,
  VisualMapComponent,
} from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';

echarts.use([
  BarChart,
  HeatmapChart,
  LineChart,
  PieChart,
  SankeyChart,
  ScatterChart,
  DataZoomComponent,
  GridComponent,
  LegendComponent,
  MarkLineComponent,
  TitleComponent,
  TooltipComponent,
  VisualMapComponent,
  CanvasRenderer,
]);

export type Option = echarts.EChartsCoreOption;

export const gradeColors: Record<string, string> = { A: '#2e7d32', B: '#1f77b4', C: '#f0a202', D: '#c62828', new: '#9e9e9e' };

const live = new Set<echarts.ECharts>();

window.addEventListener('resize', () => live.forEach((c) => c.resize()));

// disposeAll frees the charts of the page being left.
export function disposeAll(): void {
  live.forEach((c) => c.dispose());
  live.clear();
}

// draw renders option into el. el gets data-points (the data drawn) and,
// once ECharts has finished rendering, data-rendered: the browser tests and
// the load measurement read them.
export function draw(el: HTMLElement, option: Option, points: number): echarts.ECharts {
  const chart = echarts.init(el, undefined, { renderer: 'canvas' });
  live.add(chart);
  el.dataset.points = String(points);
  delete el.dataset.rendered;
  chart.on('finished', () => {
    el.dataset.rendered = '1';
  });
  chart.setOption({ animation: false, textStyle: { fontFamily: 'inherit' }, ...option });
  return chart;
}
