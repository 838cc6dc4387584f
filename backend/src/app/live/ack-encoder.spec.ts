import { Decoder, Encoder, Packet, PacketType } from 'socket.io-parser';
import { ackPieces, RawJson, SplicingEncoder } from './ack-encoder';
import { asciiJson } from './ascii-json';

// The wire must not change: what the splicing encoder writes is what socket.io's own encoder
// writes for the same value, with characters outside ASCII escaped (ascii-json.ts), and
// socket.io's own decoder reads it back.
describe('SplicingEncoder', () => {
  const history = [
    { deviceId: 'd1', metric: 'temp', t: [1, 2, 3], v: [21.5, -0, 1e21] },
    { deviceId: 'd "2"', metric: 'h\u2028', t: [], v: [] },
  ];
  const ack = (h: unknown, id = 7, nsp = '/live'): Packet => ({
    type: PacketType.ACK,
    nsp,
    id,
    data: [{ ok: true, serverTime: 5, devices: [], history: h, rooms: ['fleet'] }],
  });

  const decode = (encoded: string) =>
    new Promise<Packet>((resolve) => {
      const decoder = new Decoder();
      decoder.on('decoded', resolve);
      decoder.add(encoded);
    });

  it('writes a shared snapshot exactly as socket.io writes the value it stands for', async () => {
    for (const [id, nsp] of [
      [7, '/live'],
      [0, '/'],
    ] as const) {
      const [spliced] = new SplicingEncoder().encode(ack(RawJson.of(history, 6), id, nsp));
      const [plain] = new Encoder().encode(ack(history, id, nsp));
      expect(spliced).toBe(asciiJson(plain as string));
      expect((await decode(spliced as string)).data[0].history).toEqual(
        JSON.parse(JSON.stringify(history)),
      );
    }
  });

  it('splices several in order, and leaves every other packet to socket.io', () => {
    const two: Packet = {
      type: PacketType.EVENT,
      nsp: '/live',
      data: ['x', { a: RawJson.of([1]), b: 'RawJson', c: RawJson.of({ z: '"' }) }],
    };
    expect(new SplicingEncoder().encode(two)).toEqual(
      new Encoder().encode({ ...two, data: ['x', { a: [1], b: 'RawJson', c: { z: '"' } }] }),
    );
    expect(new SplicingEncoder().encode({ ...two, data: ['x', { c: RawJson.of('é') }] })).toEqual([
      '2/live,["x",{"c":"\\u00e9"}]',
    ]);
    const binary: Packet = { type: PacketType.EVENT, nsp: '/', data: ['b', Buffer.from([1])] };
    expect(new SplicingEncoder().encode(binary)).toEqual(new Encoder().encode(binary));
    const plain = ack(history);
    expect(new SplicingEncoder().encode(plain)).toEqual(
      new Encoder().encode(plain).map((p) => asciiJson(p as string)),
    );
  });

  it('gives the same answer in pieces for a direct write, each snapshot as its one shared buffer', () => {
    const snapshot = RawJson.of(history, 6);
    const summary = RawJson.of({ v: 2, devices: ['é'] });
    const packet = ack(snapshot);
    (packet.data[0] as Record<string, unknown>)['summary'] = summary;
    const pieces = ackPieces(packet.data);
    const [plain] = new Encoder().encode({
      ...packet,
      data: [{ ...packet.data[0], history, summary: { v: 2, devices: ['é'] } }],
    });
    // What follows the packet header (`3/live,7`) is the pieces, joined.
    const joined = Buffer.concat(pieces.map((p) => (typeof p === 'string' ? Buffer.from(p) : p)));
    expect(joined.toString('ascii')).toBe(asciiJson(plain as string).slice('3/live,7'.length));
    expect(JSON.parse(joined.toString('ascii'))[0].summary.devices).toEqual(['é']);
    expect(pieces.filter((p) => Buffer.isBuffer(p))).toEqual([snapshot.bytes, summary.bytes]);
    expect(ackPieces(packet.data)[1]).toBe(snapshot.bytes); // made once, shared by every write
  });
});
