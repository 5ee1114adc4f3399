export * from './clock';
export * from './conflicts';
export * from './device';
export * from './errors';
export * from './history';
export * from './records';
export * from './tables';
export * from './validate';
