import { asciiJson } from './ascii-json';

describe('asciiJson', () => {
  it('writes every character outside ASCII as its escape, the same value for JSON.parse', () => {
    const value = {
      name: 'Kühlraum · Süd ☃ 東京',
      astral: '🌡 𝄞',
      separators: 'a\u2028b\u2029c',
      lone: 'x\ud800y',
      plain: 'd "1" \\ /',
      n: [1.5, -0, 1e21],
    };
    const text = asciiJson(JSON.stringify(value));
    expect(text).toMatch(/^[\x20-\x7e]*$/);
    expect(text).toContain('K\\u00fchlraum \\u00b7 S\\u00fcd \\u2603 \\u6771\\u4eac');
    expect(text).toContain('\\ud83c\\udf21'); // a pair's two halves
    expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(value)));
  });

  it('escapes a lone surrogate as itself', () => {
    expect(asciiJson('"a\ud800b"')).toBe('"a\\ud800b"');
  });

  it('hands ASCII text back as it is', () => {
    const text = JSON.stringify({ deviceId: 'd-1', values: { temp: 21.5 } });
    expect(asciiJson(text)).toBe(text);
  });
});
