import { Logger } from '@nestjs/common';
import { INTEREST_EXPIRY_MS, InterestMessage, parseInterest, RoomInterest } from './room-interest';

// Real: the interest bookkeeping of two gateways wired back to back (what Redis carries between
// them, as the fan-out reads it, minus Redis), with a hand-moved clock.
describe('RoomInterest', () => {
  let now: number;
  let a: RoomInterest;
  let b: RoomInterest;
  let aRooms: string[];
  let bRooms: string[];
  let wire: InterestMessage[];
  /** What b was told each peer newly watches. */
  let addedAtB: [string, string[]][];

  beforeEach(() => {
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    now = 1_000;
    aRooms = [];
    bRooms = [];
    wire = [];
    addedAtB = [];
    // Like a Redis channel: every message reaches both, the sender included.
    const send = (message: InterestMessage) => {
      wire.push(message);
      const parsed = parseInterest(Buffer.from(JSON.stringify(message)));
      if (typeof parsed === 'string') throw new Error(parsed);
      a.receive(parsed.message);
      b.receive(parsed.message);
    };
    a = new RoomInterest(
      'a',
      send,
      () => aRooms,
      () => now,
    );
    b = new RoomInterest(
      'b',
      send,
      () => bRooms,
      () => now,
      (peer, rooms) => addedAtB.push([peer, rooms]),
    );
  });

  afterEach(() => jest.restoreAllMocks());

  it('a gateway that starts learns the rooms the others already watch, and they learn its own', () => {
    aRooms = ['fleet', 'device:d1'];
    bRooms = ['group:g'];
    b.hello();
    expect(b.has('fleet') && b.has('device:d1')).toBe(true);
    expect(a.has('group:g')).toBe(true);
    expect(a.has('fleet')).toBe(false); // its own rooms are not a peer's
  });

  it('counts a peer as known only once its whole list came, not from an add it sent first', () => {
    aRooms = ['fleet'];
    // b starts while a's screens are reconnecting to a: a's adds reach b before its answer does.
    const b2 = new RoomInterest(
      'b',
      () => undefined,
      () => [],
      () => now,
    ); // hello not answered yet
    b2.hello();
    b2.receive({ g: 'a', kind: 'add', rooms: ['device:d1'] });
    expect(b2.peerCount()).toBe(1);
    expect(b2.knownPeerCount()).toBe(0); // a's other rooms are still unknown
    b2.receive({ g: 'a', kind: 'all', rooms: ['fleet', 'device:d1'] });
    expect(b2.knownPeerCount()).toBe(1);
    expect(b2.has('fleet')).toBe(true);
  });

  it('follows rooms as they get their first member and lose their last, not socket or summary rooms', () => {
    a.hello();
    a.created('device:d2');
    a.created('summary');
    a.created('Zx3socketid');
    expect(b.has('device:d2')).toBe(true);
    expect(b.has('summary') || b.has('Zx3socketid')).toBe(false);
    a.deleted('device:d2');
    expect(b.has('device:d2')).toBe(false);
  });

  it('forgets a peer that said bye at once and one that went silent after the expiry', () => {
    aRooms = ['fleet'];
    a.hello();
    expect(b.peerCount()).toBe(1);
    a.bye();
    expect(b.has('fleet')).toBe(false);
    a.announceAll();
    now += INTEREST_EXPIRY_MS - 1;
    b.expire();
    expect(b.has('fleet')).toBe(true);
    now += 2;
    b.expire();
    expect(b.has('fleet')).toBe(false);
    expect(b.peerCount()).toBe(0);
  });

  it('reads only well-formed messages, and only the readings rooms named by the contract in them', () => {
    const parse = (message: unknown) => parseInterest(Buffer.from(JSON.stringify(message)));
    expect(parse({ g: 'x', kind: 'all', rooms: 'fleet' })).toBe('no room list');
    expect(parse({ kind: 'add', rooms: ['fleet'] })).toBe('bad gateway id');
    expect(parse({ g: 'x', kind: 'add', rooms: [42, 'fleet', 'summary', 'device:'] })).toEqual({
      message: { g: 'x', kind: 'add', rooms: ['fleet'] },
      refused: 3,
    });
  });

  it('tells which rooms a peer newly watches, from its add and from its whole list, once each', () => {
    a.created('device:d1');
    a.created('device:d1'); // already known: nothing new
    aRooms = ['device:d1', 'group:hall', 'summary'];
    a.announceAll(); // group:hall is new; summary is not a readings room
    a.deleted('device:d1');
    a.created('device:d1'); // watched again after a gap: new again
    expect(addedAtB).toEqual([
      ['a', ['device:d1']],
      ['a', ['group:hall']],
      ['a', ['device:d1']],
    ]);
  });
});
