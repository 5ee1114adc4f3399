export { makeEdit, makeRow, rng } from './payloads';
export { fetchTestToken } from './token';
export { createVirtualUser, VirtualUser, type VirtualUserOptions } from './virtual-user';
