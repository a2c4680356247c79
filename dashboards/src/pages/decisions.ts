import { ApiError, Decision, post } from '../api';
import { Key, t } from '../i18n';
import { h } from '../ui';

// Analysts' decisions (POST /api/v1/decisions, scope analyst): small forms
// on the clusters, lists and counties pages. Each records one decision as
// its event with the signed-in analyst's key and shows what became of it;
// the job that reads it (clusters, lists, plan) takes it at its next run.

export interface DecisionInput {
  name: string; // the data field
  label: Key;
  kind?: 'text' | 'number' | 'select';
  options?: [string, Key][];
  value?: string;
  required?: boolean;
}

export interface DecisionFormOptions {
  name: string; // data-decision, for tests and styles
  type: string;
  uscc?: string;
  data: Record<string, unknown>; // fixed fields: the warning, the entry key, the objection
  inputs: DecisionInput[];
  submit: Key;
  done?: (d: Decision) => void;
}

// decisionForm posts one decision; its result line carries data-state
// stored or failed and says the event's id or the API's message.
export function decisionForm(o: DecisionFormOptions): HTMLFormElement {
  const result = h('p', { class: 'decision-result' });
  const fields = o.inputs.map((i) => ({ i, el: input(i) }));
  const button = h('button', { type: 'submit' }, t(o.submit));
  const form = h(
    'form',
    { class: 'decision', 'data-decision': o.name },
    ...fields.map(({ i, el }) => h('label', {}, t(i.label) + ' ', el)),
    button,
    result,
  );
  form.addEventListener('submit', async (e: Event) => {
    e.preventDefault();
    const data: Record<string, unknown> = { ...o.data };
    for (const { i, el } of fields) {
      const v = el.value.trim();
      if (v !== '') data[i.name] = i.kind === 'number' ? Number(v) : v;
    }
    button.disabled = true;
    result.dataset.state = 'sending';
    result.textContent = t('loading');
    try {
      const d = await post<Decision>('/decisions', { type: o.type, uscc: o.uscc, data });
      result.dataset.state = 'stored';
      result.dataset.event = d.id;
      result.textContent = t('dc.stored', { id: d.id });
      o.done?.(d);
    } catch (err) {
      result.dataset.state = 'failed';
      result.textContent = t('dc.failed') + (err instanceof ApiError ? `${err.message} (${err.code})` : String(err));
      button.disabled = false;
    }
  });
  return form;
}

function input(i: DecisionInput): HTMLInputElement | HTMLSelectElement {
  if (i.kind === 'select') {
    return h('select', { name: i.name }, ...(i.options ?? []).map(([v, label]) => h('option', { value: v, selected: v === i.value }, t(label))));
  }
  return h('input', { name: i.name, type: i.kind === 'number' ? 'number' : 'text', min: i.kind === 'number' ? 0 : undefined, value: i.value, required: i.required });
}
