// Client-side checks of the chosen song before upload (the gateway checks again, from the bytes).

export const MAX_UPLOAD_MB = 50;
export const MAX_SECONDS = 600;
export const MIN_SECONDS = 5;
const EXTENSIONS = ["mp3", "wav", "ogg", "oga", "flac", "m4a"];
export const ACCEPT = "audio/mpeg,audio/wav,audio/x-wav,audio/ogg,audio/flac,audio/mp4,.mp3,.wav,.ogg,.flac,.m4a";

export interface AudioCheck {
  ok: boolean;
  error: string | null;
  duration: number | null;
}

export function checkTypeAndSize(file: File, maxMb = MAX_UPLOAD_MB): string | null {
  const ext = file.name.split(".").pop()?.toLowerCase() ?? "";
  const typeOk = file.type.startsWith("audio/") || EXTENSIONS.includes(ext);
  if (!typeOk) return `“${file.name}” is not an audio file: choose an MP3, WAV, OGG, FLAC or M4A song.`;
  if (file.size === 0) return `“${file.name}” is empty.`;
  if (file.size > maxMb * 1_000_000) {
    return `“${file.name}” is ${(file.size / 1_000_000).toFixed(1)} MB; the limit is ${maxMb} MB.`;
  }
  return null;
}

/** The song's duration as the browser decodes it (metadata only), or null when it cannot be read. */
export function readDuration(file: File, timeoutMs = 10_000): Promise<number | null> {
  return new Promise((resolve) => {
    const url = URL.createObjectURL(file);
    const audio = document.createElement("audio");
    const done = (value: number | null) => {
      clearTimeout(timer);
      URL.revokeObjectURL(url);
      audio.removeAttribute("src");
      resolve(value);
    };
    const timer = setTimeout(() => done(null), timeoutMs);
    audio.preload = "metadata";
    audio.onloadedmetadata = () => done(Number.isFinite(audio.duration) ? audio.duration : null);
    audio.onerror = () => done(null);
    audio.src = url;
  });
}

export async function checkAudio(
  file: File,
  measure: (f: File) => Promise<number | null> = readDuration,
): Promise<AudioCheck> {
  const error = checkTypeAndSize(file);
  if (error) return { ok: false, error, duration: null };
  const duration = await measure(file);
  if (duration === null) {
    return { ok: false, error: `The browser cannot decode “${file.name}”: is it a valid audio file?`, duration };
  }
  if (duration < MIN_SECONDS) return { ok: false, error: `The song is ${duration.toFixed(1)} s; at least ${MIN_SECONDS} s are needed.`, duration };
  if (duration > MAX_SECONDS) return { ok: false, error: `The song is ${formatDuration(duration)}; the limit is ${MAX_SECONDS / 60} minutes.`, duration };
  return { ok: true, error: null, duration };
}

export function formatDuration(seconds: number): string {
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds - m * 60);
  return `${m}:${String(s).padStart(2, "0")}`;
}

export const usd = (v: number) => `$${v.toFixed(v > 0 && v < 0.01 ? 4 : 2)}`;
