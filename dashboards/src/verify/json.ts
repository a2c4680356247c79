// A JSON reader that keeps every number as the text it was published as.
// A draw's probabilities are decimals with at most six places, and their
// canonical text is what rules_sha256 hashes: JSON.parse would turn them
// into binary floats first (0.073973 is no float), so a 7th decimal or an
// exponent would pass unseen. Everything else reads as JSON.parse reads it.

export class JSONNumber {
  constructor(readonly text: string) {}
}

export type JSONValue = null | boolean | string | JSONNumber | JSONValue[] | { [key: string]: JSONValue };

const numberRe = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const stringRe = /"(?:[^"\\\u0000-\u001f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*"/y;
const spaceRe = /[ \t\n\r]*/y;

export function parseJSON(text: string): JSONValue {
  let pos = 0;
  const fail = (what: string): never => {
    throw new SyntaxError(`JSON: ${what} at offset ${pos}`);
  };
  const space = () => {
    spaceRe.lastIndex = pos;
    spaceRe.exec(text);
    pos = spaceRe.lastIndex;
  };
  const token = (re: RegExp): string | null => {
    re.lastIndex = pos;
    const m = re.exec(text);
    if (!m) return null;
    pos = re.lastIndex;
    return m[0];
  };
  const value = (): JSONValue => {
    space();
    const c = text[pos];
    if (c === '{') {
      pos++;
      const o: { [key: string]: JSONValue } = {};
      space();
      if (text[pos] === '}') return pos++, o;
      for (;;) {
        space();
        const k = token(stringRe) ?? fail('a key expected');
        space();
        if (text[pos++] !== ':') fail("':' expected");
        o[JSON.parse(k) as string] = value(); // a repeated key: the last wins, as in Go
        space();
        const sep = text[pos++];
        if (sep === '}') return o;
        if (sep !== ',') fail("',' or '}' expected");
      }
    }
    if (c === '[') {
      pos++;
      const a: JSONValue[] = [];
      space();
      if (text[pos] === ']') return pos++, a;
      for (;;) {
        a.push(value());
        space();
        const sep = text[pos++];
        if (sep === ']') return a;
        if (sep !== ',') fail("',' or ']' expected");
      }
    }
    if (c === '"') return JSON.parse(token(stringRe) ?? fail('a bad string')) as string;
    for (const [word, v] of [['true', true], ['false', false], ['null', null]] as const) {
      if (text.startsWith(word, pos)) return (pos += word.length), v;
    }
    const n = token(numberRe);
    if (n !== null) return new JSONNumber(n);
    return fail('a value expected');
  };
  const v = value();
  space();
  if (pos !== text.length) fail('text after the value');
  return v;
}
