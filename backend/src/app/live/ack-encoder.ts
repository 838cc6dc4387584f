import { randomUUID } from 'node:crypto';
import { Decoder, Encoder, Packet, PacketType, protocol } from 'socket.io-parser';
import { asciiJson } from './ascii-json';

/*
 * Socket.IO's own packet encoder, taught one thing: a value wrapped in {@link RawJson} is
 * written as the JSON text it already holds. A reconnect storm's acknowledgements carry the
 * same history to hundreds of screens; encoded once, each answer costs a copy, not a
 * JSON.stringify (and socket.io-parser's walk of every number looking for binary).
 * The wire is unchanged: the text spliced in is what JSON.stringify made of the value.
 * And every packet's text is ASCII (ascii-json.ts: what a browser decodes fastest).
 * Owns that splice; installed through Socket.IO's documented `parser` option (live-io.server.ts).
 */

/** A value already encoded as JSON, sent as is wherever it sits in an event or ack's arguments. */
export class RawJson {
  private utf8: Buffer | null = null;
  /** The JSON text, ASCII (non-ASCII characters escaped). */
  readonly json: string;

  constructor(
    json: string,
    /** What it stands for, for the sender's own accounting (points in an ack's history). */
    readonly points = 0,
  ) {
    this.json = asciiJson(json);
  }

  static of(value: unknown, points = 0): RawJson {
    return new RawJson(JSON.stringify(value), points);
  }

  /** The text as UTF-8, made once and shared by every frame written with it ({@link ackPieces}). */
  get bytes(): Buffer {
    return (this.utf8 ??= Buffer.from(this.json));
  }
}

/** A string no JSON.stringify of Pulse's data produces (a fresh UUID per process). */
const MARK = `pulse-raw-${randomUUID()}`;
const QUOTED_MARK = `"${MARK}"`;

/** Whether `data` (a packet's argument list) holds a RawJson one level down, where acks put it. */
export function holdsRaw(data: unknown): boolean {
  if (!Array.isArray(data)) return false;
  for (const arg of data) {
    if (arg instanceof RawJson) return true;
    if (arg !== null && typeof arg === 'object')
      for (const key in arg)
        if ((arg as Record<string, unknown>)[key] instanceof RawJson) return true;
  }
  return false;
}

/** `data` as JSON with each RawJson cut out: the text around them (one more than them), in order. */
function splice(data: unknown): { parts: string[]; raws: RawJson[] } {
  const raws: RawJson[] = [];
  const json = JSON.stringify(data, (_key, value: unknown) => {
    if (!(value instanceof RawJson)) return value;
    raws.push(value);
    return MARK;
  });
  return { parts: asciiJson(json).split(QUOTED_MARK), raws };
}

export class SplicingEncoder extends Encoder {
  override encode(packet: Packet): (string | Buffer)[] {
    if (
      (packet.type !== PacketType.ACK && packet.type !== PacketType.EVENT) ||
      !holdsRaw(packet.data)
    )
      return super
        .encode(packet)
        .map((part) => (typeof part === 'string' ? asciiJson(part) : part));
    const { parts, raws } = splice(packet.data);
    let body = parts[0];
    for (let i = 1; i < parts.length; i++) body += raws[i - 1].json + parts[i];
    // Header as socket.io-parser writes it: type, namespace unless `/`, then the ack id.
    const nsp = packet.nsp && packet.nsp !== '/' ? `${packet.nsp},` : '';
    return [`${packet.type}${nsp}${packet.id ?? ''}${body}`];
  }
}

/**
 * An acknowledgement's argument list as the JSON the encoder above would write after the packet
 * header, in pieces: text, and each RawJson as its shared bytes (for a frame written directly,
 * engine-adapter.ts `writeAck`). Same wire.
 */
export function ackPieces(args: unknown[]): (string | Buffer)[] {
  const { parts, raws } = splice(args);
  const out: (string | Buffer)[] = [parts[0]];
  for (let i = 1; i < parts.length; i++) out.push(raws[i - 1].bytes, parts[i]);
  return out;
}

/** Socket.IO's `parser` option: its own decoder and protocol, the splicing encoder. */
export const LIVE_PARSER = { protocol, Encoder: SplicingEncoder, Decoder };
