# Plots bench/scaling.py's data: requests/s and p99 latency of immediate
# SELECT 1 as connections and worker threads grow.
#   gnuplot -e "conns_file='C.dat'; workers_file='W.dat'; out_file='scaling.png'" bench/plot.gp
# C.dat: connections qgate_rps qgate_p99_ms responder_rps responder_p99_ms
# W.dat: workers qgate_rps qgate_p99_ms responder_rps_64 responder_p99_ms_64

if (!exists("conns_file")) conns_file = "scaling_conns.dat"
if (!exists("workers_file")) workers_file = "scaling_workers.dat"
if (!exists("out_file")) out_file = "scaling.png"

set terminal pngcairo size 1400,1000 font "DejaVu Sans,13" linewidth 2
set output out_file
set multiplot layout 2,2 title "qgate: immediate SELECT 1 (POST, keep-alive, wrk)" font ",16"

set style line 1 lc rgb "#1f62b4" pt 7 ps 1.4
set style line 2 lc rgb "#d9541a" pt 5 ps 1.4
set style line 3 lc rgb "#d9541a" dt 2
set grid
set key inside top center horizontal box opaque
set offsets 0, 0, graph 0.22, 0
set format y "%.0f"

set logscale x 2
set xtics ("1" 1, "16" 16, "64" 64, "256" 256, "1024" 1024)
set xrange [0.8:1300]
set xlabel "connections (qgate: 4 workers)"

set title "requests/s by connections"
set ylabel "requests/s"
set yrange [0:*]
set format y "%.0s%c"
plot conns_file using 1:2 with linespoints ls 1 title "qgate", \
     conns_file using 1:4 with linespoints ls 2 title "responder"

set title "p99 latency by connections"
set ylabel "p99 latency (ms, log scale)"
set logscale y 10
set yrange [*:*]
set format y "%g"
plot conns_file using 1:3 with linespoints ls 1 title "qgate", \
     conns_file using 1:5 with linespoints ls 2 title "responder"

unset logscale x
unset logscale y
set xtics ("1" 1, "2" 2, "4" 4, "8" 8)
set xrange [0.5:8.5]
set xlabel "worker threads (64 connections)"

set title "requests/s by worker threads"
set ylabel "requests/s"
set yrange [0:*]
set format y "%.0s%c"
plot workers_file using 1:2 with linespoints ls 1 title "qgate", \
     workers_file using 1:4 with lines ls 3 title "responder (64 connections)"

set title "p99 latency by worker threads"
set ylabel "p99 latency (ms)"
set format y "%g"
plot workers_file using 1:3 with linespoints ls 1 title "qgate", \
     workers_file using 1:5 with lines ls 3 title "responder (64 connections)"

unset multiplot
