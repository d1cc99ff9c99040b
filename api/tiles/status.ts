/**
 * The status rules of a tile (docs/ioc-tiles.md): red, amber or green, each with its reasons in
 * Vietnamese and English, so the wall says why and not only what colour.
 */
export type TileStatus = 'green' | 'amber' | 'red';

export interface Reason {
  code: string;
  vi: string;
  en: string;
}

export interface StatusInput {
  open: { critical: number; high: number; medium: number; low: number };
  silentSources: number;
  /** True when the agency sent events in the last 24 h but none in the silence window. */
  agencySilent: boolean;
  parseFailureRate: number;
  meanTimeToAcknowledgeMs: number | null;
}

export const THRESHOLDS = {
  redHighOpen: 3,
  amberParseFailureRate: 0.05,
  amberMttaMs: 30 * 60_000,
  silenceMinutes: 30,
};

export function tileStatus(input: StatusInput): { status: TileStatus; reasons: Reason[] } {
  const red: Reason[] = [];
  const amber: Reason[] = [];
  if (input.open.critical > 0) {
    red.push({
      code: 'critical_open',
      vi: `${input.open.critical} sự cố nghiêm trọng chưa xử lý`,
      en: `${input.open.critical} critical incident(s) open`,
    });
  }
  if (input.open.high >= THRESHOLDS.redHighOpen) {
    red.push({
      code: 'many_high_open',
      vi: `${input.open.high} sự cố mức cao chưa xử lý`,
      en: `${input.open.high} high-severity incidents open`,
    });
  } else if (input.open.high > 0) {
    amber.push({
      code: 'high_open',
      vi: `${input.open.high} sự cố mức cao chưa xử lý`,
      en: `${input.open.high} high-severity incident(s) open`,
    });
  }
  if (input.agencySilent) {
    red.push({
      code: 'agency_silent',
      vi: `Không nhận được nhật ký trong ${THRESHOLDS.silenceMinutes} phút qua`,
      en: `No logs received in the last ${THRESHOLDS.silenceMinutes} minutes`,
    });
  } else if (input.silentSources > 0) {
    amber.push({
      code: 'sources_silent',
      vi: `${input.silentSources} nguồn nhật ký im lặng hơn ${THRESHOLDS.silenceMinutes} phút`,
      en: `${input.silentSources} log source(s) silent for over ${THRESHOLDS.silenceMinutes} minutes`,
    });
  }
  if (input.parseFailureRate > THRESHOLDS.amberParseFailureRate) {
    const percent = (input.parseFailureRate * 100).toFixed(1);
    amber.push({
      code: 'parse_failures',
      vi: `${percent}% nhật ký không phân tích được`,
      en: `${percent}% of logs could not be parsed`,
    });
  }
  if (input.meanTimeToAcknowledgeMs !== null && input.meanTimeToAcknowledgeMs > THRESHOLDS.amberMttaMs) {
    const minutes = Math.round(input.meanTimeToAcknowledgeMs / 60_000);
    amber.push({
      code: 'slow_acknowledgement',
      vi: `Thời gian tiếp nhận trung bình ${minutes} phút`,
      en: `Mean time to acknowledge is ${minutes} minutes`,
    });
  }
  if (red.length > 0) return { status: 'red', reasons: [...red, ...amber] };
  if (amber.length > 0) return { status: 'amber', reasons: amber };
  return {
    status: 'green',
    reasons: [
      {
        code: 'ok',
        vi: 'Không có sự cố nghiêm trọng; nguồn nhật ký hoạt động',
        en: 'No serious incidents; log sources reporting',
      },
    ],
  };
}
