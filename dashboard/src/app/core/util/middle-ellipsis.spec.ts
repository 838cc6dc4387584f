import { middleEllipsis, nameCharsBeside, nameCharsFor, nameParts } from './middle-ellipsis';

describe('middleEllipsis', () => {
  it('leaves a name that fits whole', () => {
    expect(middleEllipsis('Boiler', 10)).toBe('Boiler');
    expect(middleEllipsis('Env sensor 0042', 15)).toBe('Env sensor 0042');
  });

  it('keeps the number that tells the devices apart', () => {
    expect(middleEllipsis('Env sensor 0042', 12)).toBe('Env sen…0042');
    expect(middleEllipsis('Env sensor 0042', 14)).toBe('Env senso…0042');
    expect(middleEllipsis('Env sensor 0042 · Hall A', 18)).toBe('Env…0042 · Hall A');
  });

  it('keeps the number when the words after it do not fit beside it', () => {
    expect(middleEllipsis('Env sensor 0042 · Hall A', 12)).toBe('Env se…0042…');
  });

  it('tells apart what cutting the end would make identical', () => {
    const a = middleEllipsis('Env sensor 0041 · Hall A', 18);
    const b = middleEllipsis('Env sensor 0042 · Hall A', 18);
    expect(a).not.toBe(b);
  });

  it('cuts one long word (an id) in the middle, keeping more of its end', () => {
    const id = 'plant-7-line-3-press-000042';
    const short = middleEllipsis(id, 16);
    expect(short).toHaveLength(16);
    expect(short).toBe('plant-…ss-000042');
  });

  it('never exceeds the budget, down to a single character', () => {
    for (const max of [1, 2, 3, 5, 8, 13]) {
      expect(middleEllipsis('Power meter 1234 · Lab', max).length).toBeLessThanOrEqual(max);
    }
    expect(middleEllipsis('abc', 1)).toBe('…');
  });
});

describe('nameCharsFor', () => {
  it('gives a tile a character per 9 px beside its badge, never fewer than 12', () => {
    expect(nameCharsFor(262)).toBe(19); // five tiles across a 1400 px window
    expect(nameCharsFor(366)).toBe(31); // a 390 px phone
    expect(nameCharsFor(50)).toBe(12);
  });
});

describe('nameCharsBeside', () => {
  it('leaves room for the alert badge, so the number that tells devices apart is not cut by CSS', () => {
    expect(nameCharsBeside(24, null)).toBe(24);
    expect(nameCharsBeside(24, 'major')).toBe(17);
    expect(nameCharsBeside(24, 'critical ×3')).toBe(11);
    expect(nameCharsBeside(12, 'critical ×12')).toBe(8);
    expect(middleEllipsis('Machine 0012 · Workshop', nameCharsBeside(20, 'major'))).toMatch(/0012/);
  });
});

describe('nameParts', () => {
  it('keeps what follows the ellipsis as the tail, the ellipsis with the head CSS may cut', () => {
    expect(nameParts('Env se…0042 · Hall A')).toEqual({ head: 'Env se…', tail: '0042 · Hall A' });
    expect(nameParts('Env se…0042…')).toEqual({ head: 'Env se…', tail: '0042…' });
  });

  it('starts the tail of a whole name at its last word with a digit, else its last word', () => {
    expect(nameParts('Env sensor 0042 · Hall A')).toEqual({
      head: 'Env sensor ',
      tail: '0042 · Hall A',
    });
    expect(nameParts('Boiler room north')).toEqual({ head: 'Boiler room ', tail: 'north' });
  });

  it('draws any run of white space as one space (a line break or a tab in a device meta name)', () => {
    expect(nameParts('Pump\n7')).toEqual({ head: 'Pump ', tail: '7' });
    expect(nameParts('Boiler \t  room\r\n0042')).toEqual({ head: 'Boiler room ', tail: '0042' });
  });

  it('gives a single word no tail, and loses no character', () => {
    expect(nameParts('env-0042')).toEqual({ head: 'env-0042', tail: '' });
    for (const name of ['Env sensor in the north wing 0042 · Hall A', 'a b', 'x…', '…']) {
      const short = middleEllipsis(name, 12);
      const { head, tail } = nameParts(short);
      expect(head + tail).toBe(short);
    }
  });
});
