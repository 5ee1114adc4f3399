/**
 * The HCI subset both stacks use (design note §2.3; read from noble/bleno lib/hci-socket/hci.js), as
 * H4 packets: 0x01 command, 0x02 ACL data, 0x04 event. Builders for the events the controller sends.
 */

export const H4_COMMAND = 0x01;
export const H4_ACL = 0x02;
export const H4_EVENT = 0x04;

const op = (ogf: number, ocf: number) => ocf | (ogf << 10);
export const OP = {
  DISCONNECT: op(0x01, 0x0006),
  SET_EVENT_MASK: op(0x03, 0x0001),
  RESET: op(0x03, 0x0003),
  READ_LE_HOST_SUPPORTED: op(0x03, 0x006c),
  WRITE_LE_HOST_SUPPORTED: op(0x03, 0x006d),
  READ_LOCAL_VERSION: op(0x04, 0x0001),
  READ_SUPPORTED_COMMANDS: op(0x04, 0x0002),
  READ_BUFFER_SIZE: op(0x04, 0x0005),
  READ_BD_ADDR: op(0x04, 0x0009),
  READ_RSSI: op(0x05, 0x0005),
  LE_SET_EVENT_MASK: op(0x08, 0x0001),
  LE_READ_BUFFER_SIZE: op(0x08, 0x0002),
  LE_SET_RANDOM_ADDRESS: op(0x08, 0x0005),
  LE_SET_ADV_PARAMS: op(0x08, 0x0006),
  LE_SET_ADV_DATA: op(0x08, 0x0008),
  LE_SET_SCAN_RSP_DATA: op(0x08, 0x0009),
  LE_SET_ADV_ENABLE: op(0x08, 0x000a),
  LE_SET_SCAN_PARAMS: op(0x08, 0x000b),
  LE_SET_SCAN_ENABLE: op(0x08, 0x000c),
  LE_CREATE_CONN: op(0x08, 0x000d),
  LE_CREATE_CONN_CANCEL: op(0x08, 0x000e),
  LE_CONN_UPDATE: op(0x08, 0x0013),
  LE_START_ENCRYPTION: op(0x08, 0x0019),
  LE_LTK_NEG_REPLY: op(0x08, 0x001b),
  LE_SET_PHY: op(0x08, 0x0032),
} as const;

export const EVT = {
  DISCONN_COMPLETE: 0x05,
  CMD_COMPLETE: 0x0e,
  CMD_STATUS: 0x0f,
  NUM_COMPLETED_PACKETS: 0x13,
  LE_META: 0x3e,
} as const;

export const LE_EVT = { CONN_COMPLETE: 0x01, ADV_REPORT: 0x02, CONN_UPDATE_COMPLETE: 0x03 } as const;

export const STATUS = {
  SUCCESS: 0x00,
  UNKNOWN_COMMAND: 0x01,
  UNKNOWN_CONNECTION_ID: 0x02,
  CONNECTION_TIMEOUT: 0x08,
  COMMAND_DISALLOWED: 0x0c,
  REMOTE_USER_TERMINATED: 0x13,
  LOCAL_HOST_TERMINATED: 0x16,
} as const;

/** ACL packet boundary flags (upper 4 bits of the handle field hold PB and BC). */
export const PB_START_NO_FLUSH = 0x00;
export const PB_CONT = 0x01;
export const PB_START = 0x02;

export function addrToBuf(address: string): Buffer {
  return Buffer.from(address.split(':').reverse().join(''), 'hex');
}
export function bufToAddr(b: Buffer): string {
  return Buffer.from(b).reverse().toString('hex').match(/.{2}/g)!.join(':');
}

function event(code: number, params: Buffer): Buffer {
  return Buffer.concat([Buffer.from([H4_EVENT, code, params.length]), params]);
}

export function cmdComplete(opcode: number, ret: Buffer): Buffer {
  const p = Buffer.alloc(3 + ret.length);
  p.writeUInt8(1, 0); // Num_HCI_Command_Packets
  p.writeUInt16LE(opcode, 1);
  ret.copy(p, 3);
  return event(EVT.CMD_COMPLETE, p);
}

export function cmdStatus(opcode: number, status: number): Buffer {
  const p = Buffer.alloc(4);
  p.writeUInt8(status, 0);
  p.writeUInt8(1, 1);
  p.writeUInt16LE(opcode, 2);
  return event(EVT.CMD_STATUS, p);
}

export function disconnComplete(handle: number, reason: number): Buffer {
  const p = Buffer.alloc(4);
  p.writeUInt8(0, 0);
  p.writeUInt16LE(handle, 1);
  p.writeUInt8(reason, 3);
  return event(EVT.DISCONN_COMPLETE, p);
}

export function numCompleted(handle: number, count: number): Buffer {
  const p = Buffer.alloc(5);
  p.writeUInt8(1, 0);
  p.writeUInt16LE(handle, 1);
  p.writeUInt16LE(count, 3);
  return event(EVT.NUM_COMPLETED_PACKETS, p);
}

export interface ConnCompleteArgs {
  status: number;
  handle: number;
  role: 0 | 1;
  peerAddress: string;
  intervalUnits: number;
  latency: number;
  supervisionUnits: number;
}

export function leConnComplete(a: ConnCompleteArgs): Buffer {
  const p = Buffer.alloc(19);
  p.writeUInt8(LE_EVT.CONN_COMPLETE, 0);
  p.writeUInt8(a.status, 1);
  p.writeUInt16LE(a.handle, 2);
  p.writeUInt8(a.role, 4);
  p.writeUInt8(0, 5); // peer address type: public
  addrToBuf(a.peerAddress).copy(p, 6);
  p.writeUInt16LE(a.intervalUnits, 12);
  p.writeUInt16LE(a.latency, 14);
  p.writeUInt16LE(a.supervisionUnits, 16);
  p.writeUInt8(0, 18); // central clock accuracy
  return event(EVT.LE_META, p);
}

export function leConnUpdateComplete(handle: number, intervalUnits: number, latency: number, supervisionUnits: number) {
  const p = Buffer.alloc(10);
  p.writeUInt8(LE_EVT.CONN_UPDATE_COMPLETE, 0);
  p.writeUInt8(0, 1);
  p.writeUInt16LE(handle, 2);
  p.writeUInt16LE(intervalUnits, 4);
  p.writeUInt16LE(latency, 6);
  p.writeUInt16LE(supervisionUnits, 8);
  return event(EVT.LE_META, p);
}

/** ADV_IND = 0x00, SCAN_RSP = 0x04. */
export function leAdvReport(evtType: number, address: string, data: Buffer, rssi: number): Buffer {
  const p = Buffer.alloc(2 + 1 + 1 + 6 + 1 + data.length + 1);
  p.writeUInt8(LE_EVT.ADV_REPORT, 0);
  p.writeUInt8(1, 1);
  p.writeUInt8(evtType, 2);
  p.writeUInt8(0, 3);
  addrToBuf(address).copy(p, 4);
  p.writeUInt8(data.length, 10);
  data.copy(p, 11);
  p.writeInt8(rssi, 11 + data.length);
  return event(EVT.LE_META, p);
}

export function aclPacket(handle: number, pb: number, data: Buffer): Buffer {
  const b = Buffer.alloc(5 + data.length);
  b.writeUInt8(H4_ACL, 0);
  b.writeUInt16LE((handle & 0x0fff) | (pb << 12), 1);
  b.writeUInt16LE(data.length, 3);
  data.copy(b, 5);
  return b;
}
