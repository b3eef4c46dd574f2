/** The simulator's fault flags (`--offline 0.1:2000:5000` …) → FaultOptions. */
import { parseFaultNumbers, type FaultOptions } from './faults';

export const FAULT_FLAGS = ['offline', 'drops', 'slow', 'fail', 'corrupt', 'skew', 'disk-full', 'reboot'] as const;

/** Fault flags → FaultOptions; each error names its flag. */
export function faultsFromFlags(values: Partial<Record<(typeof FAULT_FLAGS)[number], string>>): FaultOptions {
  const faults: FaultOptions = {};
  const n = (flag: (typeof FAULT_FLAGS)[number], count: number) => {
    const numbers = parseFaultNumbers(flag, values[flag]!, count);
    if (numbers[0]! > 1) throw new Error(`--${flag}: the first number is a fraction of devices, 0…1`);
    return numbers;
  };
  if (values.offline) {
    const [devices, afterMs, forMs] = n('offline', 3);
    faults.offline = { devices: devices!, afterMs: afterMs!, forMs: forMs! };
  }
  if (values.drops) {
    const [devices, everyMs] = n('drops', 2);
    faults.connectionDrops = { devices: devices!, everyMs: Math.max(100, everyMs!) };
  }
  if (values.slow) {
    const [devices, bytesPerSecond] = n('slow', 2);
    faults.slowDownloads = { devices: devices!, bytesPerSecond: Math.max(10, bytesPerSecond!) };
  }
  if (values.fail) {
    const [devices, failures] = n('fail', 2);
    faults.failingDownloads = { devices: devices!, failures: failures! };
  }
  if (values.corrupt) {
    const [devices, times] = n('corrupt', 2);
    faults.corruptDownloads = { devices: devices!, times: times! };
  }
  if (values.skew) {
    const [devices, maxMs] = n('skew', 2);
    faults.clockSkew = { devices: devices!, maxMs: maxMs! };
  }
  if (values['disk-full']) {
    const [devices, failures] = n('disk-full', 2);
    faults.diskFull = { devices: devices!, failures: failures! };
  }
  if (values.reboot) {
    const [devices, afterMs, downMs] = n('reboot', 3);
    faults.rebootWhilePlaying = { devices: devices!, afterMs: afterMs!, downMs: downMs! };
  }
  return faults;
}
