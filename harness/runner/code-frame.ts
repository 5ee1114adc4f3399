/**
 * A compile error of a user's file as Playwright shows it: the message, `file:line:column`, and the
 * offending line with its neighbours and a caret. esbuild (through tsx) reports
 * `Transform failed with N error(s):\n<file>:<line>:<col>: ERROR: <text>`; other errors pass through.
 */
import { readFileSync } from 'node:fs';

const LOCATED = /^(.+?):(\d+):(\d+): (?:ERROR|error): (.*)$/;

export function describeLoadError(file: string, message: string): string {
  const located = message
    .split('\n')
    .map((l) => LOCATED.exec(l.trim()))
    .filter((m): m is RegExpExecArray => m !== null);
  if (located.length === 0) return message.trim();
  return located
    .map(
      ([, at, line, col, text]) => `${text}\n  at ${at}:${line}:${col}\n${codeFrame(file, Number(line), Number(col))}`,
    )
    .join('\n');
}

/** Two lines of context either side, the error line marked with `>` and a caret under the column (1-based line, 0-based column as esbuild counts). */
export function codeFrame(file: string, line: number, column: number): string {
  let lines: string[];
  try {
    lines = readFileSync(file, 'utf8').split('\n');
  } catch {
    return '';
  }
  const from = Math.max(1, line - 2);
  const to = Math.min(lines.length, line + 2);
  const w = String(to).length;
  const out: string[] = [];
  for (let n = from; n <= to; n++) {
    out.push(`${n === line ? '>' : ' '} ${String(n).padStart(w)} | ${lines[n - 1]}`);
    if (n === line) out.push(`  ${' '.repeat(w)} | ${' '.repeat(column)}^`);
  }
  return out.join('\n');
}
