import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readRunResult } from './commands';
import { JsonReporter } from './json';
import { generateSampleRun } from './testing/sample-run';

describe('json reporter', () => {
  it('writes results.json that reads back identical', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rep-json-'));
    const { result } = generateSampleRun();
    await new JsonReporter({}, { outputDir: dir }).onEnd(result);
    expect(JSON.parse(await readFile(join(dir, 'results.json'), 'utf8'))).toEqual(result);
    expect(await readRunResult(dir)).toEqual(result);
  });

  it('refuses folders without results.json and other schema versions with HRN_ERR_RUN_DIR', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rep-json-'));
    await expect(readRunResult(dir)).rejects.toMatchObject({ code: 'HRN_ERR_RUN_DIR', exitCode: 2 });
    await writeFile(join(dir, 'results.json'), JSON.stringify({ ...generateSampleRun().result, schemaVersion: 2 }));
    await expect(readRunResult(dir)).rejects.toMatchObject({
      code: 'HRN_ERR_RUN_DIR',
      hint: 'Upgrade the harness to read it.',
    });
    await writeFile(join(dir, 'results.json'), '{ torn');
    await expect(readRunResult(dir)).rejects.toMatchObject({ code: 'HRN_ERR_RUN_DIR' });
  });
});
