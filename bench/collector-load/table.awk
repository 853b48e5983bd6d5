# Renders run.sh's results.tsv as markdown: every run; each configuration's mean and spread; and each ratio, within
# every round (the two runs were minutes apart at most) and of the means, judged against its target when it has one.
# Usage: awk -F'\t' -v events=100 -v duration=15 -v configs="bare-read bare-json folder s3" \
#          -v ratios="folder/bare-json:0.5 s3/folder:0.8" -f table.awk results.tsv
# Columns of results.tsv: config round requests seconds p50_us p99_us non2xx socket_errors dropped server_cpu% host_cpu%
#   fsyncs written_mb store_cpu% load warmup_dropped peak_rss_mb
function ms(us) { return sprintf("%.2f", us / 1000) }
function mean(c) { return sum[c] / n[c] }
{
  # Events the server took in: a collector answers 200 also for events it dropped (droppedContentCount), which are
  # not counted; a run with drops or errors is flagged in the verdicts.
  eps = ($3 * events - ($9 == "-" ? 0 : $9)) / $4; key = $1 SUBSEP $2
  rate[key] = eps; row[NR] = $0; eps_of[NR] = eps
  # CPU per event: the cost to the server itself, much less sensitive than events/s to the share of the cores it got.
  cpu_ev[key] = eps > 0 ? $10 * 1e4 / eps : 0
  sum[$1] += eps; cpu_sum[$1] += cpu_ev[key]; n[$1]++
  if (!($1 in lo) || eps < lo[$1]) lo[$1] = eps
  if (!($1 in hi) || eps > hi[$1]) hi[$1] = eps
  if ($2 > last_round) last_round = $2
  if ($7 + $8 > 0 || ($9 != "-" && $9 > 0)) bad[$1]++
}
END {
  printf "| configuration | round | events/s | req/s | p50 ms | p99 ms | server CPU %% | CPU µs/event | store CPU %% | host CPU %% | load | fsyncs/s | written MB | peak RSS MiB | non-2xx + socket errors | dropped |\n"
  printf "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
  for (i = 1; i <= NR; i++) {
    split(row[i], f, "\t"); e = eps_of[i]
    fs = f[12] == "-" ? "-" : sprintf("%.0f", f[12] / duration)
    dr = f[9] (f[16] != "-" && f[16] > 0 ? " (warm-up " f[16] ")" : "")
    printf "| %s | %s | %.0f | %.0f | %s | %s | %s | %.2f | %s | %s | %s | %s | %s | %s | %d | %s |\n", f[1], f[2], e, f[3] / f[4],
      ms(f[5]), ms(f[6]), f[10], cpu_ev[f[1] SUBSEP f[2]], f[14], f[11], f[15], fs, f[13], (f[17] == "" ? "-" : f[17]), f[7] + f[8], dr
  }

  printf "\n| configuration | runs | mean events/s | spread (min–max) | spread | mean CPU µs/event |\n"
  printf "|---|---:|---:|---:|---:|---:|\n"
  nc = split(configs, order, " ")
  for (k = 1; k <= nc; k++) {
    c = order[k]
    if (!(c in n)) continue
    printf "| %s | %d | %.0f | %.0f–%.0f | ±%.0f%% | %.2f |\n", c, n[c], mean(c), lo[c], hi[c],
      50 * (hi[c] - lo[c]) / mean(c), cpu_sum[c] / n[c]
  }

  # The ratio of the means is the figure judged; the per-round ratios show how much of it is noise; the CPU ratio is
  # what events/s would give if both processes had had the same CPU (the server's own CPU only, not the S3 server's).
  printf "\n| ratio | target | per round | of the means | by server CPU per event | verdict |\n|---|---:|---|---:|---:|---|\n"
  nr = split(ratios, rs, " ")
  for (k = 1; k <= nr; k++) {
    split(rs[k], spec, ":"); split(spec[1], pair, "/"); a = pair[1]; b = pair[2]
    if (!(a in n) || !(b in n)) continue
    rounds_text = ""; met = 0; counted = 0
    for (r = 1; r <= last_round; r++) {
      if (!((a SUBSEP r) in rate) || !((b SUBSEP r) in rate) || rate[b SUBSEP r] == 0) continue
      q = rate[a SUBSEP r] / rate[b SUBSEP r]; counted++
      if (spec[2] != "" && q >= spec[2]) met++
      rounds_text = rounds_text (rounds_text == "" ? "" : ", ") sprintf("%.2f", q)
    }
    m = mean(a) / mean(b)
    cq = cpu_sum[a] > 0 ? (cpu_sum[b] / n[b]) / (cpu_sum[a] / n[a]) : 0
    if (spec[2] == "") { target = "–"; verdict = "–" }
    else {
      target = "≥ " spec[2]
      verdict = (m >= spec[2] ? "PASS" : "MISS") sprintf(" (%d of %d rounds ≥ %s)", met, counted, spec[2])
      if (bad[a] + bad[b] > 0) verdict = verdict ", errors or drops in " (bad[a] + bad[b]) " runs"
    }
    printf "| %s / %s | %s | %s | %.2f | %.2f | %s |\n", a, b, target, rounds_text, m, cq, verdict
  }
}
