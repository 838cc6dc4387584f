import { formatSpan } from './span';

describe('formatSpan', () => {
  it('says a duration to the second in at most two units', () => {
    expect(formatSpan(0)).toBe('0 s');
    expect(formatSpan(10_000)).toBe('10 s');
    expect(formatSpan(10_400)).toBe('10 s');
    expect(formatSpan(59_999)).toBe('59 s');
    expect(formatSpan(60_000)).toBe('1 min');
    expect(formatSpan(185_000)).toBe('3 min 5 s');
    expect(formatSpan(2 * 3_600_000 + 4 * 60_000 + 59_000)).toBe('2 h 4 min');
    expect(formatSpan(3 * 86_400_000 + 2 * 3_600_000)).toBe('3 d 2 h');
    expect(formatSpan(7 * 86_400_000)).toBe('7 d');
  });

  it('keeps a tenth below 10 s, and says nothing for what is not a duration', () => {
    expect(formatSpan(2_500)).toBe('2.5 s');
    expect(formatSpan(9_999)).toBe('9.9 s');
    expect(formatSpan(3_000)).toBe('3 s');
    expect(formatSpan(-5)).toBe('0 s');
    expect(formatSpan(NaN)).toBe('–');
  });
});
