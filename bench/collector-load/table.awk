# Renders run.sh's results.tsv as markdown: every run with its ratios against b and a of the same round, then the
# mean of each configuration and its spread. Usage: awk -F'\t' -v events=100 -v duration=15 -f table.awk results.tsv
function ms(us) { return sprintf("%.2f", us / 1000) }
{
  rps = $3 / $4; key = $1 SUBSEP $2
  rate[key] = rps; row[NR] = $0; rps_of[NR] = rps
  sum[$1] += rps; n[$1]++
  if (!($1 in lo) || rps < lo[$1]) lo[$1] = rps
  if (!($1 in hi) || rps > hi[$1]) hi[$1] = rps
}
END {
  printf "| configuration | round | req/s | events/s | p50 ms | p99 ms | vs (b) | vs (a) | server CPU %% | CPU µs/event | host CPU %% | fsyncs/s | non-2xx | dropped |\n"
  printf "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
  for (i = 1; i <= NR; i++) {
    split(row[i], f, "\t"); r = rps_of[i]
    fs = f[12] == "-" ? "-" : sprintf("%.0f", f[12] / duration)
    # CPU per event: the cost to the server itself, much less sensitive than req/s to the share of the cores it was given.
    printf "| %s | %s | %.0f | %.0f | %s | %s | %.2f | %.2f | %s | %.1f | %s | %s | %d | %s |\n", f[1], f[2], r, r * events,
      ms(f[5]), ms(f[6]), r / rate["b-memory" SUBSEP f[2]], r / rate["a-bare" SUBSEP f[2]], f[10], f[10] * 1e4 / (r * events),
      f[11], fs, f[7] + f[8], f[9]
  }
  printf "\n| configuration | mean req/s | spread (min–max) | mean events/s | vs (b) | vs (a) |\n|---|---:|---:|---:|---:|---:|\n"
  split("a-bare b-memory c-durable", order, " ")
  for (k = 1; k <= 3; k++) {
    c = order[k]; m = sum[c] / n[c]
    printf "| %s | %.0f | %.0f–%.0f | %.0f | %.2f | %.2f |\n", c, m, lo[c], hi[c], m * events,
      m / (sum["b-memory"] / n["b-memory"]), m / (sum["a-bare"] / n["a-bare"])
  }
}
