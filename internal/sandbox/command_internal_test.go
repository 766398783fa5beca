package sandbox

import (
	"net"
	"testing"
)

// TestPrintedAddressIsReachable: settings printed for a listener on every
// interface name an address a client can dial, not 0.0.0.0 or [::].
func TestPrintedAddressIsReachable(t *testing.T) {
	for _, tt := range []struct {
		addr net.TCPAddr
		want string
	}{
		{addr: net.TCPAddr{IP: net.IPv6unspecified, Port: 8081}, want: "http://127.0.0.1:8081"},
		{addr: net.TCPAddr{IP: net.IPv4zero, Port: 8081}, want: "http://127.0.0.1:8081"},
		{addr: net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8081}, want: "http://127.0.0.1:8081"},
		{addr: net.TCPAddr{IP: net.ParseIP("192.0.2.1"), Port: 8081}, want: "http://192.0.2.1:8081"},
	} {
		if got := BaseURL(&tt.addr); got != tt.want {
			t.Errorf("BaseURL(%s) = %s; want %s", &tt.addr, got, tt.want)
		}
	}
}
