export * from './define-config';
export * from './errors';
export * from './load';
export * from './network-presets';
export * from './types';
