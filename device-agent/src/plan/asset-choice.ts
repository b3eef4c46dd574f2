/**
 * Which file a node plays of each asset. A node that asks for MP3 (config
 * `audioFormat: "mp3"`, a player without Opus) takes the MP3 copy the server
 * attached, at intake: the cache, the downloader, the player and the assets
 * the plan keeps then all see the MP3 file. An asset without a copy stays as
 * it is, and the node plays the Ogg file.
 */
import {
  isFile,
  type Asset,
  type AudioFormat,
  type CommandPayload,
  type FileAsset,
  type PlanPayload,
} from '@loaxa/protocol';

export function chooseAsset(asset: Asset, format: AudioFormat): Asset {
  if (format !== 'mp3' || !isFile(asset) || asset.format === 'mp3' || !asset.mp3) return asset;
  // `data` holds the Ogg bytes: it goes with the Ogg file.
  const mp3: FileAsset = {
    sha256: asset.mp3.sha256,
    url: asset.mp3.url,
    bytes: asset.mp3.bytes,
    durationMs: asset.durationMs,
    format: 'mp3',
  };
  return mp3;
}

function chooseAssets(assets: readonly Asset[], format: AudioFormat): Asset[] {
  return assets.map((asset) => chooseAsset(asset, format));
}

/** The plan with each item's assets chosen; the same object for an Ogg node. */
export function choosePlanAssets(plan: PlanPayload, format: AudioFormat): PlanPayload {
  if (format === 'ogg') return plan;
  return { ...plan, items: plan.items.map((item) => ({ ...item, assets: chooseAssets(item.assets, format) })) };
}

/** A play-now command with its assets chosen; other commands and Ogg nodes get the same object. */
export function chooseCommandAssets(command: CommandPayload, format: AudioFormat): CommandPayload {
  if (format === 'ogg' || command.action !== 'play-now') return command;
  return { ...command, assets: chooseAssets(command.assets, format) };
}
