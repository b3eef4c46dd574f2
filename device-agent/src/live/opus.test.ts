import { LIVE_FRAME_SAMPLES } from '@loaxa/protocol';
import { describe, expect, it } from 'vitest';
import { codecDelayMs, correlation, encodeAll, synthesise, voiceEncoder } from '../../test/live/audio';
import { LiveDecoder } from './opus';

/**
 * A 440 Hz tone with a syllable-rate envelope: libopus' voice detector must
 * hear speech-like activity before it spends bits on FEC (a steady tone gets none).
 */
const tone = (t: number) => 8_000 * Math.sin(2 * Math.PI * 440 * t) * (0.5 + 0.5 * Math.sin(2 * Math.PI * 3 * t));

describe('LiveDecoder', () => {
  const encoder = voiceEncoder();
  const original = synthesise(60, tone);
  const packets = encodeAll(encoder, original);
  const lost = 30;

  /** The lost frame as the listener should have heard it: the original, delayed by the codec. */
  function heard(frame: number): Int16Array {
    const delay = Math.round((codecDelayMs(encoder) * 48_000) / 1000);
    const joined = new Int16Array(original.length * LIVE_FRAME_SAMPLES);
    original.forEach((pcm, index) => joined.set(pcm, index * LIVE_FRAME_SAMPLES));
    const start = frame * LIVE_FRAME_SAMPLES - delay;
    return joined.slice(start, start + LIVE_FRAME_SAMPLES);
  }

  function decoderBefore(frame: number): LiveDecoder {
    const decoder = new LiveDecoder();
    for (const packet of packets.slice(0, frame)) decoder.decode(packet);
    return decoder;
  }

  it('decodes each packet to one 20 ms frame that follows the input', () => {
    const decoder = decoderBefore(lost);
    const pcm = decoder.decode(packets[lost]!);
    expect(pcm).toHaveLength(LIVE_FRAME_SAMPLES);
    expect(correlation(pcm, heard(lost))).toBeGreaterThan(0.9);
    decoder.close();
  });

  it('rebuilds a lost frame from the FEC in the next packet, better than concealment guesses it', () => {
    const recovering = decoderBefore(lost);
    const concealing = decoderBefore(lost);
    const recovered = recovering.recover(packets[lost + 1]!);
    const concealed = concealing.conceal();
    expect(recovered).toHaveLength(LIVE_FRAME_SAMPLES);
    expect(concealed).toHaveLength(LIVE_FRAME_SAMPLES);
    const fecScore = correlation(recovered, heard(lost));
    // Silence scores 0; the low-bitrate copy must be close to the real thing, and beat the guess.
    expect(fecScore).toBeGreaterThan(0.8);
    expect(fecScore).toBeGreaterThan(correlation(concealed, heard(lost)) + 0.2);
    // The next packet is then decoded as usual, in its own slot.
    expect(correlation(recovering.decode(packets[lost + 1]!), heard(lost + 1))).toBeGreaterThan(0.8);
    recovering.close();
    concealing.close();
  });

  it('conceals a frame with nothing to go on (960 samples, carrying the tone on)', () => {
    const decoder = decoderBefore(10);
    const concealed = decoder.conceal();
    expect(concealed).toHaveLength(LIVE_FRAME_SAMPLES);
    expect(concealed.some((sample) => sample !== 0)).toBe(true);
    decoder.close();
  });

  it('refuses a corrupt packet, so the player can conceal instead', () => {
    const decoder = new LiveDecoder();
    // TOC code 3 (arbitrary frame count) with no frame-count byte: invalid.
    expect(() => decoder.decode(Uint8Array.of(0x4b))).toThrow(/opus/);
    expect(() => decoder.decode(new Uint8Array(0))).toThrow(/empty/);
    decoder.close();
    expect(() => decoder.conceal()).toThrow(/closed/);
  });
});
