/**
 * Power loss without fsync for the SQLite phone (lostLocalWrites fault). The phone's database runs
 * in WAL mode with synchronous=NORMAL and no automatic checkpoint (db.ts): every commit appends
 * frames to `phone.db-wal` and nothing is fsynced, so after a power loss the disk may hold any
 * prefix of the WAL, and SQLite's recovery replays it up to its last complete commit frame.
 *
 * The journal samples the WAL's size over time (main thread, every few ms, and after each local
 * write). Losing the last N ms is then exactly what the hardware could do: keep the main file and
 * the WAL prefix that existed N ms ago, drop the rest, delete the shared-memory index (rebuilt from
 * the WAL on open). A cut inside a multi-frame transaction is safe: recovery ignores frames after the
 * last commit frame, as it would after a real torn write.
 */
import {
  closeSync,
  copyFileSync,
  existsSync,
  openSync,
  readSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import type { PowerLossReport } from '../../protocol/device';

const SAMPLE_EVERY_MS = 5;
/** Samples kept: enough for any loss window a scenario asks for. */
const KEEP_MS = 120_000;

interface Sample {
  t: number;
  size: number;
}

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

export class WalJournal {
  private samples: Sample[] = [];
  private timer?: NodeJS.Timeout;
  private readonly wal: string;

  constructor(private readonly dbFile: string) {
    this.wal = `${dbFile}-wal`;
  }

  /** Starts sampling (at boot, after the database opened: what is there now is durable). */
  start(): void {
    this.stop();
    this.samples = [{ t: performance.now(), size: sizeOf(this.wal) }];
    this.timer = setInterval(() => this.sample(), SAMPLE_EVERY_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Records the WAL's size now (called after every local write as well as on the timer). */
  sample(): void {
    const now = performance.now();
    const size = sizeOf(this.wal);
    const last = this.samples[this.samples.length - 1];
    if (last && last.size === size) return;
    this.samples.push({ t: now, size });
    // Keep one sample older than the window so a cut always has a base.
    while (this.samples.length > 2 && now - this.samples[1].t > KEEP_MS) this.samples.shift();
  }

  /**
   * Copies the database as the disk may hold it after losing the last `lostMs`: the main file and
   * the WAL prefix of the newest sample at least `lostMs` old (the oldest sample when none is).
   * Call before the app dies (closing the connection would checkpoint); `restore` after.
   */
  capture(lostMs: number): { report: PowerLossReport; restore(): void } {
    this.sample();
    const now = performance.now();
    let base = this.samples[0];
    for (const s of this.samples) if (now - s.t >= lostMs) base = s;
    const walNow = sizeOf(this.wal);
    const keep = Math.min(base.size, walNow);
    const dbCopy = `${this.dbFile}.power-loss`;
    const walCopy = `${this.wal}.power-loss`;
    copyFileSync(this.dbFile, dbCopy);
    copyPrefix(this.wal, walCopy, keep);
    this.stop();
    return {
      report: { lostWallMs: Math.round(now - base.t), lostLogBytes: walNow - keep },
      restore: () => {
        renameSync(dbCopy, this.dbFile);
        if (keep > 0) renameSync(walCopy, this.wal);
        else {
          unlinkIfThere(walCopy);
          unlinkIfThere(this.wal);
        }
        unlinkIfThere(`${this.dbFile}-shm`);
      },
    };
  }
}

function unlinkIfThere(file: string): void {
  if (existsSync(file)) unlinkSync(file);
}

function copyPrefix(from: string, to: string, bytes: number): void {
  const out = openSync(to, 'w');
  try {
    if (bytes === 0) return;
    const src = openSync(from, 'r');
    try {
      const buf = Buffer.allocUnsafe(Math.min(bytes, 1 << 20));
      for (let pos = 0; pos < bytes; ) {
        const n = readSync(src, buf, 0, Math.min(buf.length, bytes - pos), pos);
        if (n === 0) break;
        writeSync(out, buf, 0, n);
        pos += n;
      }
    } finally {
      closeSync(src);
    }
  } finally {
    closeSync(out);
  }
}
