import { Writable } from 'node:stream';

/**
 * A Writable that keeps the first `cap` bytes written to it and the last `tailCap` bytes, and
 * counts everything. Used for a container's stdout and stderr, so a flood costs a counter, not
 * memory, and what a program writes last (the runner's outcome line) is never lost to it.
 */
export class CappedBuffer extends Writable {
  private readonly head: Buffer[] = [];
  private headBytes = 0;
  private tailBuf: Buffer = Buffer.alloc(0);
  /** Every byte the container wrote to this stream, kept or not. */
  totalBytes = 0;

  constructor(
    private readonly cap: number,
    private readonly tailCap = Math.min(cap, 64 * 1024),
  ) {
    super();
  }

  get truncated(): boolean {
    return this.totalBytes > this.cap;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    this.totalBytes += chunk.length;
    const room = this.cap - this.headBytes;
    if (room > 0) {
      const part = chunk.length <= room ? chunk : chunk.subarray(0, room);
      this.head.push(part);
      this.headBytes += part.length;
    }
    const combined = Buffer.concat([this.tailBuf, chunk]);
    this.tailBuf =
      combined.length > this.tailCap ? Buffer.from(combined.subarray(combined.length - this.tailCap)) : combined;
    done();
  }

  /** The kept text: all of it, or the head, a marker with the dropped count, and the tail. */
  text(): string {
    const head = Buffer.concat(this.head);
    if (!this.truncated) return head.toString('utf8');
    const tailStart = Math.max(this.cap, this.totalBytes - this.tailBuf.length);
    const tail = this.tailBuf.subarray(this.tailBuf.length - (this.totalBytes - tailStart));
    return `${head.toString('utf8')}\n…[${tailStart - this.cap} bytes dropped by OpsGuard's output cap]…\n${tail.toString('utf8')}`;
  }
}
