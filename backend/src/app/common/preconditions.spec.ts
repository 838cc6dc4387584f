import { BadRequestException } from '@nestjs/common';
import {
  NO_PRECONDITIONS,
  failedPrecondition,
  parseEntityTags,
  parsePreconditions,
} from './preconditions';

describe('parseEntityTags', () => {
  it('reads *, one tag, and lists with weak tags, spaces and empty elements', () => {
    expect(parseEntityTags('*')).toBe('*');
    expect(parseEntityTags(' * ')).toBe('*');
    expect(parseEntityTags('"abc"')).toEqual([{ weak: false, opaque: '"abc"' }]);
    expect(parseEntityTags('W/"a", "b" ,, "",')).toEqual([
      { weak: true, opaque: '"a"' },
      { weak: false, opaque: '"b"' },
      { weak: false, opaque: '""' },
    ]);
  });

  it('refuses what is not a list of quoted tags (null)', () => {
    for (const bad of ['', ' , ', 'abc', '"abc', '"a" "b"', 'w/"a"', '"a b"', '*, "a"', '"a"x'])
      expect([bad, parseEntityTags(bad)]).toEqual([bad, null]);
  });
});

describe('parsePreconditions', () => {
  it('gives null for a header not sent', () => {
    expect(parsePreconditions({})).toEqual(NO_PRECONDITIONS);
    expect(parsePreconditions({ 'if-match': '"x"', 'if-none-match': '*' })).toEqual({
      ifMatch: [{ weak: false, opaque: '"x"' }],
      ifNoneMatch: '*',
    });
  });

  it('refuses 400 with one issue per bad header, the value quoted and cut at 64 characters', () => {
    let thrown: unknown;
    try {
      parsePreconditions({ 'if-match': 'x'.repeat(100), 'if-none-match': 'abc' });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(BadRequestException);
    expect((thrown as BadRequestException).getResponse()).toMatchObject({
      message: [
        `If-Match: must be * or a list of quoted entity tags ("abc", W/"abc"), got "${'x'.repeat(64)}…"`,
        'If-None-Match: must be * or a list of quoted entity tags ("abc", W/"abc"), got "abc"',
      ],
    });
  });
});

describe('failedPrecondition', () => {
  const when = (headers: Record<string, string>) => parsePreconditions(headers);

  it('passes every write without preconditions', () => {
    expect(failedPrecondition(NO_PRECONDITIONS, '"a"')).toBeNull();
    expect(failedPrecondition(NO_PRECONDITIONS, null)).toBeNull();
  });

  it('If-Match: a strong match of the current tag; * any current rule; nothing when there is none', () => {
    expect(failedPrecondition(when({ 'if-match': '"b", "a"' }), '"a"')).toBeNull();
    expect(failedPrecondition(when({ 'if-match': '"b"' }), '"a"')).toBe('if-match');
    expect(failedPrecondition(when({ 'if-match': 'W/"a"' }), '"a"')).toBe('if-match');
    expect(failedPrecondition(when({ 'if-match': '*' }), '"a"')).toBeNull();
    expect(failedPrecondition(when({ 'if-match': '*' }), null)).toBe('if-match');
    expect(failedPrecondition(when({ 'if-match': '"a"' }), null)).toBe('if-match');
  });

  it('If-None-Match: * only when there is none; a list fails on a weak match', () => {
    expect(failedPrecondition(when({ 'if-none-match': '*' }), null)).toBeNull();
    expect(failedPrecondition(when({ 'if-none-match': '*' }), '"a"')).toBe('if-none-match');
    expect(failedPrecondition(when({ 'if-none-match': 'W/"a"' }), '"a"')).toBe('if-none-match');
    expect(failedPrecondition(when({ 'if-none-match': '"b"' }), '"a"')).toBeNull();
  });

  it('judges If-Match first (RFC 9110 §13.2.2)', () => {
    expect(failedPrecondition(when({ 'if-match': '"b"', 'if-none-match': '*' }), '"a"')).toBe(
      'if-match',
    );
  });
});
