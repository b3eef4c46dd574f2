export { startSimFleet, type SimDevice, type SimFleet, type SimFleetOptions } from './fleet';
export { parseDevicesFile } from './devices-file';
