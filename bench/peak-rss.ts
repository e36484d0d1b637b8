// Preloaded into a benchmarked agent process (`node --import ./bench/peak-rss.ts ...`): at exit,
// writes the process's peak resident set size and CPU seconds (user + system) to the file named
// by BENCH_REPORT_FILE.
import { writeFileSync } from 'node:fs';

const reportPath = process.env['BENCH_REPORT_FILE'];
if (reportPath !== undefined) {
  process.on('exit', () => {
    const { maxRSS, userCPUTime, systemCPUTime } = process.resourceUsage();
    writeFileSync(
      reportPath,
      JSON.stringify({
        peakRssBytes: maxRSS * 1024,
        cpuSeconds: (userCPUTime + systemCPUTime) / 1e6,
        heapUsedBytes: process.memoryUsage().heapUsed,
      }),
    );
  });
}
