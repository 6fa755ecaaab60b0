// Client-side checks of the chosen song before upload, against the server's limits (GET /api/limits; the gateway
// checks again, from the bytes). Without limits only what needs none is checked: the file is empty or undecodable.
import type { Limits } from "../api/types";

/** What the file input accepts: the server's formats, or any audio while they are unknown. */
export function accept(limits: Limits | null): string {
  return limits ? ["audio/*", ...limits.audio_formats.map((f) => `.${f}`)].join(",") : "audio/*";
}

/** "MP3, WAV or OGG" */
export function formatList(limits: Limits): string {
  const names = limits.audio_formats.map((f) => f.toUpperCase());
  return names.length > 1 ? `${names.slice(0, -1).join(", ")} or ${names[names.length - 1]}` : (names[0] ?? "");
}

export function checkFile(file: File, limits: Limits | null): string | null {
  if (file.size === 0) return `“${file.name}” is empty.`;
  if (!limits) return null;
  const ext = file.name.split(".").pop()?.toLowerCase() ?? "";
  if (!file.type.startsWith("audio/") && !limits.audio_formats.includes(ext)) {
    return `“${file.name}” is not an audio file: choose an ${formatList(limits)} song.`;
  }
  if (file.size > limits.max_upload_mb * 1_000_000) {
    return `“${file.name}” is ${(file.size / 1_000_000).toFixed(1)} MB; the limit is ${limits.max_upload_mb} MB.`;
  }
  return null;
}

export function checkDuration(duration: number, limits: Limits | null): string | null {
  if (!limits) return null;
  if (duration < limits.min_duration) return `The song is ${duration.toFixed(1)} s; at least ${limits.min_duration} s are needed.`;
  if (duration > limits.max_duration) return `The song is ${formatDuration(duration)}; the limit is ${formatLength(limits.max_duration)}.`;
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

export function formatDuration(seconds: number): string {
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds - m * 60);
  return `${m}:${String(s).padStart(2, "0")}`;
}

/** 600 -> "10 minutes", 90 -> "1:30 minutes", 45 -> "45 seconds" */
export function formatLength(seconds: number): string {
  if (seconds < 60) return `${seconds} seconds`;
  return seconds % 60 ? `${formatDuration(seconds)} minutes` : `${seconds / 60} minute${seconds === 60 ? "" : "s"}`;
}

export const usd = (v: number) => `$${v.toFixed(v > 0 && v < 0.01 ? 4 : 2)}`;
