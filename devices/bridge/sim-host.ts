/**
 * App host `simulated`: launches the simulated phone app in this process, connected to the bridge
 * like a real app would be. Lets every bridge scenario run here, and is the reference a real app's
 * behaviour is compared with.
 */
import type { AppHost, LaunchRequest } from './bridge-device';
import { type SimulatedApp, startSimulatedApp } from './sim-app';

export class SimulatedAppHost implements AppHost {
  readonly name = 'the simulated phone app';
  private app?: SimulatedApp;

  async launch(r: LaunchRequest): Promise<void> {
    if (!r.newInstance && this.app) return;
    await this.app?.stop();
    this.app = await startSimulatedApp({
      bridgeUrl: r.bridgeUrl,
      session: r.session,
      dataDir: r.ctx.dataDir,
      clock: r.ctx.clock,
    });
  }

  async terminate(): Promise<void> {
    await this.app?.kill();
    this.app = undefined;
  }

  async stop(): Promise<void> {
    await this.app?.stop();
    this.app = undefined;
  }
}
