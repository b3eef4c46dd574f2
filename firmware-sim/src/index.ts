export {
  startSimFleet,
  type FleetEvents,
  type FleetFaults,
  type SimDevice,
  type SimFleet,
  type SimFleetOptions,
} from './fleet';
export { FAULT_NAMES, selectDevices, type DeviceSelector, type FaultName, type FaultOptions } from './faults';
export { parseDevicesFile } from './devices-file';
