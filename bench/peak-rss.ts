// Preloaded into a benchmarked agent process (`node --import ./bench/peak-rss.ts ...`): at exit,
// writes the process's peak resident set size to the file named by BENCH_REPORT_FILE.
import { writeFileSync } from 'node:fs';

const reportPath = process.env['BENCH_REPORT_FILE'];
if (reportPath !== undefined) {
  process.on('exit', () => {
    const { maxRSS } = process.resourceUsage();
    writeFileSync(
      reportPath,
      JSON.stringify({
        peakRssBytes: maxRSS * 1024,
        heapUsedBytes: process.memoryUsage().heapUsed,
      }),
    );
  });
}
