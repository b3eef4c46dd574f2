/**
 * libopus complexity (0–10) for distributed audio. The encoder is most of a
 * render's time: on the project's 2-core machine the bundled static ffmpeg
 * (2018 build) encodes a minute of mono 24 kbit/s speech in about 2.0 s at 10,
 * 1.15 s at 5 and 0.9 s at 3, with file sizes within 2% of each other. 5 keeps
 * SILK's better analysis modes and brings a one-minute render near the 2 s target.
 * Operators with a faster CPU can raise it (LOAXA_OPUS_COMPLEXITY).
 */
export const DEFAULT_OPUS_COMPLEXITY = 5;
