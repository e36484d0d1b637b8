// Preloaded into a benchmarked agent process (`node --import ./bench/peak-rss.ts ...`): at exit,
// writes the process's peak resident set size and CPU seconds (user + system; all threads, and the
// main thread alone) to the file named by BENCH_REPORT_FILE.
import { writeFileSync } from 'node:fs';

const reportPath = process.env['BENCH_REPORT_FILE'];

/** CPU seconds of the main thread alone (the rest is zlib's pool and V8's GC helpers). */
function mainThreadSeconds(): number {
  const { user, system } = process.threadCpuUsage();
  return (user + system) / 1e6;
}
if (reportPath !== undefined) {
  process.on('exit', () => {
    const { maxRSS, userCPUTime, systemCPUTime } = process.resourceUsage();
    writeFileSync(
      reportPath,
      JSON.stringify({
        peakRssBytes: maxRSS * 1024,
        cpuSeconds: (userCPUTime + systemCPUTime) / 1e6,
        mainThreadCpuSeconds: mainThreadSeconds(),
        heapUsedBytes: process.memoryUsage().heapUsed,
      }),
    );
  });
}
