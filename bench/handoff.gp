# The map handoff plot of docs/benchmarks.md (scripts/bench.sh runs it):
#   gnuplot -e "datafile='handoff.dat'; outfile='docs/img/handoff.png'" bench/handoff.gp
# datafile: bench/handoff_compare's PLOT_DATA (entries, then the median µs of
# threads, threadprocs, Boost.Interprocess, serialization: usable, then read).
set terminal pngcairo size 1200,580 noenhanced
set output outfile
set datafile missing NaN
set logscale xy
set format x "%.0s%c"
set format y "%.0s%c"
set xlabel "entries in the std::unordered_map<std::string, std::string>"
set ylabel "time from A starting the handoff (seconds, log scale)"
set grid xtics ytics mytics
set bmargin 8
set xrange [700:1400000]
set yrange [1e-7:10]
set ytics ("100 ns" 1e-7, "1 µs" 1e-6, "10 µs" 1e-5, "100 µs" 1e-4, "1 ms" 1e-3, "10 ms" 1e-2, "100 ms" 0.1, "1 s" 1, "10 s" 10)
set xtics ("1k" 1000, "10k" 10000, "100k" 100000, "1M" 1000000)
set style line 1 lc rgb "#1b9e77" lw 2 dt 2 pt 6 ps 1.6
set style line 2 lc rgb "#d95f02" lw 3 pt 5 ps 1.2
set style line 3 lc rgb "#7570b3" lw 2 pt 9 ps 1.4
set style line 4 lc rgb "#e7298a" lw 2 pt 13 ps 1.4
set multiplot layout 1,2 title "Handing a map from program A to program B (medians; lower is better)"
set title "B holds a usable map"
set key at screen 0.5, 0.015 center bottom horizontal maxrows 2 box samplen 3 width 1
plot datafile using 1:($3/1e6) with linespoints ls 2 title "threadprocs: pointer", \
     '' using 1:($2/1e6) with linespoints ls 1 title "two threads: pointer", \
     '' using 1:($4/1e6) with linespoints ls 3 title "Boost.Interprocess: copy into shared memory", \
     '' using 1:($5/1e6) with linespoints ls 4 title "serialize + Unix socket + deserialize"
set title "B has read every entry"
unset ylabel
unset key
plot datafile using 1:($7/1e6) with linespoints ls 2, \
     '' using 1:($6/1e6) with linespoints ls 1, \
     '' using 1:($8/1e6) with linespoints ls 3, \
     '' using 1:($9/1e6) with linespoints ls 4
unset multiplot
