export * from './metric-names';
export * from './metrics';
export * from './quantiles';
export * from './timer';
