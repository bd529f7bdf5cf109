package metrics

import (
	"net/http"
	"strconv"
	"testing"

	dto "github.com/prometheus/client_model/go"

	"github.com/portcullis-gw/portcullis/gateway/accesslog"
)

// FuzzObserveBounded drives Observe with requests made from arbitrary
// bytes (host, virtual host or none, code, flags, gRPC content type and
// status) and checks that the label sets never pass the bound, that the
// overflow series counts exactly what was folded, and that every request
// is counted once.
func FuzzObserveBounded(f *testing.F) {
	f.Add([]byte("a.wild\x00\xc8\x01b.wild\x01\x94\x02"))
	f.Add([]byte("\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8\xf7\xf6\xf5\xf4\xf3\xf2\xf1"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m := New()
		m.series.max = 4
		n := 0
		for i := 0; i+2 < len(data); i += 3 {
			a, b, c := data[i], data[i+1], data[i+2]
			r := &accesslog.Record{
				ResponseCode: 100 + int(b)*2,
				Flags:        accesslog.Flags(c),
				Authority:    "h" + strconv.Itoa(int(a)) + ".example",
			}
			if a&1 == 0 {
				r.VirtualHost = "wild"
			}
			if a&2 == 0 {
				r.RequestHeader = http.Header{"Content-Type": {"application/grpc"}}
				r.ResponseTrailer = http.Header{"Grpc-Status": {strconv.Itoa(int(c % 20))}}
			}
			m.Observe(r, Labels{})
			n++
		}
		gathered, err := m.reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		fams := map[string]*dto.MetricFamily{}
		for _, mf := range gathered {
			fams[mf.GetName()] = mf
		}
		var total, overflow float64
		for _, s := range fams["istio_requests_total"].GetMetric() {
			total += s.GetCounter().GetValue()
			if labelMap(s)["destination_service"] == overflowValue {
				overflow += s.GetCounter().GetValue()
			}
		}
		folded := fams["portcullis_metrics_series_folded_total"].GetMetric()[0].GetCounter().GetValue()
		if sets := len(fams["istio_requests_total"].GetMetric()); sets > 5 {
			t.Fatalf("got %d label sets, want at most 5 (4 and the overflow)", sets)
		}
		if total != float64(n) || overflow != folded {
			t.Fatalf("got %v counted of %d, overflow %v, folded %v", total, n, overflow, folded)
		}
	})
}
