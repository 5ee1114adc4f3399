/** The app test bridge (README.md): harness server, the Device driven through it, app hosts. */
export { type AppHost, BridgeDevice, type BridgeDeviceOptions, type LaunchRequest } from './bridge-device';
export { BridgeConnection, BridgeServer, closeSharedBridgeServer, sharedBridgeServer } from './server';
export { type SimulatedApp, type SimulatedAppOptions, startSimulatedApp } from './sim-app';
export { SimulatedAppHost } from './sim-host';
