export * from './radio-model';
