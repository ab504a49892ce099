/**
 * Which codec to encode the screen with: the first of H.264 High (a level that fits the
 * size), VP9, VP8 that this browser's VideoEncoder supports and the agent's browser can
 * decode (the relay's latest `codecs` list, when it sent one). Also the size and start
 * bitrate of what is encoded. Pure functions, apart from the support check passed in.
 */

export const MAX_WIDTH = 1920;
export const FRAME_RATE = 30;
export const START_BITRATE_1080P = 3_000_000;
export const FLOOR_BITRATE = 300_000;
const H264_LEVEL_4_MACROBLOCKS = 8192; // up to 1920x1080 (level 4.0: 0x28)

/** H.264 High at level 4.0 for up to 1080p, 5.1 above. */
export function h264For(width, height) {
  const macroblocks = Math.ceil(width / 16) * Math.ceil(height / 16);
  return macroblocks <= H264_LEVEL_4_MACROBLOCKS ? "avc1.640028" : "avc1.640033";
}

/** The codecs to try, best first. */
export function candidates(width, height) {
  return [h264For(width, height), "vp09.00.10.08", "vp8"];
}

/**
 * Whether the agent's browser decodes `codec`, by the relay's list (null: no list yet,
 * so anything goes). Besides the exact string, a listed H.264 or VP9 string of the same
 * profile (and bit depth) at the same or a higher level covers ours, since a decoder of
 * a level decodes the levels below it.
 */
export function relayAccepts(relayCodecs, codec) {
  if (!Array.isArray(relayCodecs)) return true;
  return relayCodecs.some((listed) => typeof listed === "string" && covers(listed, codec));
}

function covers(listed, codec) {
  if (listed === codec) return true;
  const avc = /^avc1\.([0-9a-f]{4})([0-9a-f]{2})$/i;
  const a = avc.exec(listed);
  const b = avc.exec(codec);
  if (a && b) {
    return a[1].toLowerCase() === b[1].toLowerCase() && parseInt(a[2], 16) >= parseInt(b[2], 16);
  }
  const vp9 = /^vp09\.(\d\d)\.(\d\d)\.(\d\d)$/;
  const c = vp9.exec(listed);
  const d = vp9.exec(codec);
  if (c && d) return c[1] === d[1] && c[3] === d[3] && Number(c[2]) >= Number(d[2]);
  return false;
}

/** The encoded size: at most MAX_WIDTH wide, aspect kept, both dimensions even. */
export function cappedSize(width, height, maxWidth = MAX_WIDTH) {
  const scale = width > maxWidth ? maxWidth / width : 1;
  const even = (n) => Math.max(2, Math.floor((n * scale) / 2) * 2);
  return { width: even(width), height: even(height) };
}

/** The start (and highest) bitrate: 3 Mbit/s at 1080p, by pixel count, never under the floor. */
export function startBitrate(width, height) {
  const scaled = (START_BITRATE_1080P * width * height) / (1920 * 1080);
  return Math.round(Math.min(START_BITRATE_1080P, Math.max(FLOOR_BITRATE, scaled)));
}

/** A VideoEncoder configuration for `codec` at that size and bitrate. */
export function encoderConfig(codec, width, height, bitrate) {
  const config = {
    codec,
    width,
    height,
    bitrate,
    framerate: FRAME_RATE,
    latencyMode: "realtime",
  };
  if (codec.startsWith("avc1.")) config.avc = { format: "annexb" };
  return config;
}

/**
 * The first candidate both sides support, as `{codec, config}`, or null.
 * @param {(config: object) => Promise<{supported: boolean}>} isSupported
 */
export async function pickCodec(width, height, bitrate, relayCodecs, isSupported, excluded = []) {
  for (const codec of candidates(width, height)) {
    if (excluded.includes(codec) || !relayAccepts(relayCodecs, codec)) continue;
    const config = encoderConfig(codec, width, height, bitrate);
    try {
      const answer = await isSupported(config);
      if (answer.supported) return { codec, config };
    } catch {
      // a configuration this browser cannot even check counts as unsupported
    }
  }
  return null;
}
