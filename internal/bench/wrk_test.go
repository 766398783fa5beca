package main

import (
	"testing"
	"time"
)

func TestParseWrk(t *testing.T) {
	const header = `Running 1s test @ http://127.0.0.1:45353
  2 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     8.89ms   21.43ms 120.32ms   89.72%
    Req/Sec    18.19k    12.89k   39.56k    60.00%
  Latency Distribution
     50%  112.00us
     75%    2.98ms
     90%   31.27ms
     99%   99.99ms
  36700 requests in 1.06s, 4.58MB read
`
	tests := []struct {
		name string
		out  string
		want load
	}{
		{
			name: "clean run",
			out:  header + "Requests/sec:  34507.43\nTransfer/sec:      4.31MB\n",
			want: load{requests: 36700, perSecond: 34507.43, p99: 99990 * time.Microsecond},
		},
		{
			name: "failures counted",
			out: header + "  Socket errors: connect 1, read 2, write 3, timeout 4\n" +
				"  Non-2xx or 3xx responses: 5\nRequests/sec:  34507.43\n",
			want: load{requests: 36700, perSecond: 34507.43, failures: 15, p99: 99990 * time.Microsecond},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseWrk(tt.out)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("parseWrk = %+v; want %+v", got, tt.want)
			}
		})
	}
	if _, err := parseWrk("wrk: connection refused\n"); err == nil {
		t.Error("parseWrk(no report) succeeded; want an error")
	}
}
