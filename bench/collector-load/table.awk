# Renders run.sh's results.tsv as markdown: every run; each configuration's mean and spread at each connection count;
# memory and durable side by side when both ran; OTLP/protobuf beside JSON per mode when both ran; and each target, within every round (the runs compared were minutes
# apart at most) and of the means, marked met or not met.
# Usage: awk -F'\t' -v events=100 -v duration=15 -v configs="bare-json memory durable" \
#          -v ratios="durable/memory:0.8 cpu:durable/memory:1.25 rss:memory:512" -f table.awk results.tsv
# Targets (ratios): a/b:x  events/s of a >= x times b's;  a/b  shown, not judged;  cpu:a/b:x  CPU per event of a <= x
#   times b's;  rss:a:x  peak RSS of every run of a <= x MiB. Each is judged at every connection count that ran.
# Columns of results.tsv: config round requests seconds p50_us p99_us non2xx socket_errors dropped server_cpu% host_cpu%
#   fsyncs written_mb store_cpu% load warmup_dropped peak_rss_mb connections
function ms(us) { return sprintf("%.2f", us / 1000) }
function mean(g) { return sum[g] / n[g] }
function cpu_mean(g) { return cpu_sum[g] / n[g] }
function si(x) { return x >= 1e6 ? sprintf("%.2fM", x / 1e6) : sprintf("%.0fk", x / 1e3) }
function add_conns(c) { if (!(c in conn_seen)) { conn_seen[c] = 1; conn_list[++nconn] = c } }
{
  conns = ($18 == "" ? "-" : $18); add_conns(conns)
  # Events the server accepted: 2xx requests times the body's events, less those the collector answered 200 for but
  # dropped (droppedContentCount); a run with refusals, errors or drops is flagged in the verdicts.
  eps = (($3 - $7) * events - ($9 == "-" ? 0 : $9)) / $4
  g = $1 SUBSEP conns; key = g SUBSEP $2
  rate[key] = eps; row[NR] = $0; eps_of[NR] = eps
  # CPU per event: the cost to the server itself, much less sensitive than events/s to the share of the cores it got.
  cpu_ev[key] = eps > 0 ? $10 * 1e4 / eps : 0
  rss_of[key] = $17
  sum[g] += eps; cpu_sum[g] += cpu_ev[key]; n[g]++; req_sum[g] += $3; refused_sum[g] += $7
  if (!(g in lo) || eps < lo[g]) lo[g] = eps
  if (!(g in hi) || eps > hi[g]) hi[g] = eps
  if ($17 != "" && $17 != "-" && (!(g in rss_hi) || $17 + 0 > rss_hi[g])) rss_hi[g] = $17 + 0
  if ($2 > last_round) last_round = $2
  if ($7 + $8 > 0 || ($9 != "-" && $9 > 0)) bad[g]++
}
END {
  printf "| configuration | connections | round | events/s | req/s | p50 ms | p99 ms | server CPU %% | CPU µs/event | store CPU %% | host CPU %% | load | fsyncs/s | written MB | peak RSS MiB | non-2xx + socket errors | dropped |\n"
  printf "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
  for (i = 1; i <= NR; i++) {
    split(row[i], f, "\t"); e = eps_of[i]; c = (f[18] == "" ? "-" : f[18])
    fs = f[12] == "-" ? "-" : sprintf("%.0f", f[12] / duration)
    dr = f[9] (f[16] != "-" && f[16] > 0 ? " (warm-up " f[16] ")" : "")
    printf "| %s | %s | %s | %.0f | %.0f | %s | %s | %s | %.2f | %s | %s | %s | %s | %s | %s | %d | %s |\n", f[1], c, f[2], e, f[3] / f[4],
      ms(f[5]), ms(f[6]), f[10], cpu_ev[f[1] SUBSEP c SUBSEP f[2]], f[14], f[11], f[15], fs, f[13], (f[17] == "" ? "-" : f[17]), f[7] + f[8], dr
  }

  printf "\n| configuration | connections | runs | mean events/s | spread (min–max) | spread | mean CPU µs/event | peak RSS MiB (max) |\n"
  printf "|---|---:|---:|---:|---:|---:|---:|---:|\n"
  nc = split(configs, order, " ")
  for (j = 1; j <= nconn; j++) for (k = 1; k <= nc; k++) {
    g = order[k] SUBSEP conn_list[j]
    if (!(g in n)) continue
    printf "| %s | %s | %d | %.0f | %.0f–%.0f | ±%.0f%% | %.2f | %s |\n", order[k], conn_list[j], n[g], mean(g), lo[g], hi[g],
      50 * (hi[g] - lo[g]) / mean(g), cpu_mean(g), (g in rss_hi ? rss_hi[g] : "-")
  }

  # Both modes side by side, one line per connection count: the table the README carries. Refused requests (non-2xx,
  # a 503 when the buffer has no room) are not counted as accepted events; their share says how much load was turned away.
  if ((" " configs " ") ~ / memory / && (" " configs " ") ~ / durable /) {
    printf "\n| connections | floor: bare-json events/s | memory events/s | durable events/s | durable / memory | memory / floor | CPU µs/event memory | CPU µs/event durable | durable / memory CPU | peak RSS MiB memory | peak RSS MiB durable | requests refused memory / durable |\n"
    printf "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
    for (j = 1; j <= nconn; j++) {
      m = "memory" SUBSEP conn_list[j]; d = "durable" SUBSEP conn_list[j]; b = "bare-json" SUBSEP conn_list[j]
      if (!(m in n) || !(d in n)) continue
      printf "| %s | %s | %s | %s | %.2f× | %s | %.2f | %.2f | %.2f× | %s | %s | %.1f%% / %.1f%% |\n", conn_list[j], (b in n ? si(mean(b)) : "-"),
        si(mean(m)), si(mean(d)), mean(d) / mean(m), (b in n ? sprintf("%.2f×", mean(m) / mean(b)) : "-"),
        cpu_mean(m), cpu_mean(d), (cpu_mean(m) > 0 ? cpu_mean(d) / cpu_mean(m) : 0), rss_hi[m], rss_hi[d],
        100 * refused_sum[m] / req_sum[m], 100 * refused_sum[d] / req_sum[d]
    }
  }

  # OTLP/protobuf beside the JSON body, per mode and connection count, when both ran (the otlp preset).
  header = 0
  split("memory durable", modes, " ")
  for (j = 1; j <= nconn; j++) for (k = 1; k <= 2; k++) {
    jg = modes[k] SUBSEP conn_list[j]; og = modes[k] "-otlp" SUBSEP conn_list[j]
    if (!(jg in n) || !(og in n)) continue
    if (!header++) {
      printf "\n| mode | connections | JSON /v1/data/collector events/s | OTLP/protobuf /v1/logs events/s | otlp / json | CPU µs/event JSON | CPU µs/event OTLP | otlp / json CPU | peak RSS MiB JSON / OTLP | requests refused JSON / OTLP |\n"
      printf "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
    }
    printf "| %s | %s | %s | %s | %.2f× | %.2f | %.2f | %.2f× | %s / %s | %.1f%% / %.1f%% |\n", modes[k], conn_list[j], si(mean(jg)), si(mean(og)),
      mean(og) / mean(jg), cpu_mean(jg), cpu_mean(og), (cpu_mean(jg) > 0 ? cpu_mean(og) / cpu_mean(jg) : 0), rss_hi[jg], rss_hi[og],
      100 * refused_sum[jg] / req_sum[jg], 100 * refused_sum[og] / req_sum[og]
  }

  # The figure judged is of the means; the per-round figures show how much of it is noise. For events/s ratios the CPU
  # column is what the ratio would be if both processes had had the same CPU (the server's own CPU, not the S3 server's).
  printf "\n| target | connections | per round | of the means | by server CPU per event | verdict |\n|---|---:|---|---:|---:|---|\n"
  nr = split(ratios, rs, " ")
  for (k = 1; k <= nr; k++) {
    np = split(rs[k], spec, ":"); kind = "eps"
    if (spec[1] == "cpu" || spec[1] == "rss") { kind = spec[1]; for (p = 1; p < np; p++) spec[p] = spec[p + 1]; delete spec[np] }
    if (kind == "rss") { a = spec[1]; b = "" } else { split(spec[1], pair, "/"); a = pair[1]; b = pair[2] }
    for (j = 1; j <= nconn; j++) {
      ga = a SUBSEP conn_list[j]; gb = b SUBSEP conn_list[j]
      if (!(ga in n) || (kind != "rss" && !(gb in n))) continue
      rounds_text = ""; met = 0; counted = 0
      for (r = 1; r <= last_round; r++) {
        if (!((ga SUBSEP r) in rate)) continue
        if (kind == "rss") { q = rss_of[ga SUBSEP r]; ok = q + 0 <= spec[2]; txt = q }
        else {
          if (!((gb SUBSEP r) in rate)) continue
          if (kind == "cpu") { if (cpu_ev[gb SUBSEP r] == 0) continue; q = cpu_ev[ga SUBSEP r] / cpu_ev[gb SUBSEP r]; ok = q <= spec[2] }
          else { if (rate[gb SUBSEP r] == 0) continue; q = rate[ga SUBSEP r] / rate[gb SUBSEP r]; ok = q >= spec[2] }
          txt = sprintf("%.2f", q)
        }
        counted++; if (spec[2] != "" && ok) met++
        rounds_text = rounds_text (rounds_text == "" ? "" : ", ") txt
      }
      if (kind == "rss") { name = a " peak RSS"; target = "≤ " spec[2] " MiB"; fig = rss_hi[ga] " MiB (max)"; pass = rss_hi[ga] <= spec[2]; cq = "–" }
      else if (kind == "cpu") {
        name = a " / " b " CPU per event"; target = "≤ " spec[2] "×"; m = cpu_mean(gb) > 0 ? cpu_mean(ga) / cpu_mean(gb) : 0
        fig = sprintf("%.2f× (%.2f / %.2f µs)", m, cpu_mean(ga), cpu_mean(gb)); pass = m <= spec[2]; cq = "–"
      } else {
        name = a " / " b " events/s"; target = (spec[2] == "" ? "–" : "≥ " spec[2] "×"); m = mean(ga) / mean(gb)
        fig = sprintf("%.2f× (%s / %s)", m, si(mean(ga)), si(mean(gb))); pass = m >= spec[2]
        cq = sprintf("%.2f", cpu_mean(ga) > 0 ? cpu_mean(gb) / cpu_mean(ga) : 0)
      }
      if (spec[2] == "") verdict = "–"
      else {
        verdict = (pass ? "**met**" : "**not met**") sprintf(" (%d of %d rounds)", met, counted)
        if (bad[ga] + (kind == "rss" ? 0 : bad[gb]) > 0) verdict = verdict ", refusals, errors or drops in " (bad[ga] + (kind == "rss" ? 0 : bad[gb])) " runs"
      }
      printf "| %s %s | %s | %s | %s | %s | %s |\n", name, target, conn_list[j], rounds_text, fig, cq, verdict
    }
  }
}
