import { Writable } from 'node:stream';

/**
 * A Writable that keeps the first `cap` bytes written to it and counts the rest. Used for a
 * container's stdout and stderr, so a flood costs a counter, not memory.
 */
export class CappedBuffer extends Writable {
  private readonly chunks: Buffer[] = [];
  private kept = 0;
  /** Every byte the container wrote to this stream, kept or not. */
  totalBytes = 0;

  constructor(private readonly cap: number) {
    super();
  }

  get truncated(): boolean {
    return this.totalBytes > this.kept;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    this.totalBytes += chunk.length;
    const room = this.cap - this.kept;
    if (room > 0) {
      const part = chunk.length <= room ? chunk : chunk.subarray(0, room);
      this.chunks.push(part);
      this.kept += part.length;
    }
    done();
  }

  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}
