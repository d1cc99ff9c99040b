/** Times and durations as analysts read them, in the page's language and the browser's time zone. */
import { type Language, language } from './i18n.js';

const locale = (lang: Language) => (lang === 'vi' ? 'vi-VN' : 'en-GB');

export function formatTime(iso: string | undefined): string {
  if (!iso) return '—';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return new Intl.DateTimeFormat(locale(language()), { dateStyle: 'short', timeStyle: 'medium' }).format(
    date,
  );
}

export function formatClock(date: Date): string {
  return new Intl.DateTimeFormat(locale(language()), { timeStyle: 'medium' }).format(date);
}

/** 45 s, 12 min, 1 h 30 min, 2 d 3 h. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  const vi = language() === 'vi';
  const units = vi ? { d: 'ngày', h: 'giờ', m: 'phút', s: 'giây' } : { d: 'd', h: 'h', m: 'min', s: 's' };
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds} ${units.s}`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} ${units.m}`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48)
    return minutes % 60 ? `${hours} ${units.h} ${minutes % 60} ${units.m}` : `${hours} ${units.h}`;
  const days = Math.floor(hours / 24);
  return hours % 24 ? `${days} ${units.d} ${hours % 24} ${units.h}` : `${days} ${units.d}`;
}

export function formatNumber(value: number, digits = 0): string {
  return new Intl.NumberFormat(locale(language()), { maximumFractionDigits: digits }).format(value);
}

export function formatPercent(share: number): string {
  return new Intl.NumberFormat(locale(language()), { style: 'percent', maximumFractionDigits: 1 }).format(
    share,
  );
}
