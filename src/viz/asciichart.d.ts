/** Types for the parts of asciichart that st.viz uses (the package ships none). */
declare module 'asciichart' {
  export interface PlotConfig {
    height?: number;
    offset?: number;
    padding?: string;
    min?: number;
    max?: number;
    colors?: string[];
    format?: (x: number, i: number) => string;
  }
  export function plot(series: number[] | number[][], config?: PlotConfig): string;
  export const blue: string;
  export const yellow: string;
  export const reset: string;
  const asciichart: { plot: typeof plot; blue: string; yellow: string; reset: string };
  export default asciichart;
}
