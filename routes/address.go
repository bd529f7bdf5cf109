package routes

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// listenAddress checks an address to listen on, host:port, and returns the
// IP it binds (the zero Addr for all addresses) and the port. The host is
// empty, an IP literal or localhost: a listener never resolves other names,
// so what it binds does not depend on DNS at start. Port 0 asks the system
// for a free port, which tests use.
func listenAddress(addr string) (netip.Addr, int, error) {
	host, portText, err := net.SplitHostPort(addr)
	if err != nil {
		return netip.Addr{}, 0, fmt.Errorf("%q is not host:port", addr)
	}
	port, err := parsePort(portText)
	if err != nil {
		return netip.Addr{}, 0, fmt.Errorf("%q: %w", addr, err)
	}
	switch host {
	case "":
		return netip.Addr{}, port, nil
	case "localhost":
		return netip.AddrFrom4([4]byte{127, 0, 0, 1}), port, nil
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, 0, fmt.Errorf("%q: host must be empty, an IP address or localhost", addr)
	}
	ip = ip.Unmap()
	if ip.IsUnspecified() {
		return netip.Addr{}, port, nil
	}
	return ip, port, nil
}

// endpointAddress checks an upstream endpoint, host:port with a host (a
// name or an IP) and a port from 1 to 65535.
func endpointAddress(addr string) error {
	host, portText, err := net.SplitHostPort(addr)
	if err != nil || host == "" {
		return fmt.Errorf("%q is not host:port", addr)
	}
	if strings.ContainsAny(host, " /?#@") {
		return fmt.Errorf("%q: invalid host %q", addr, host)
	}
	port, err := parsePort(portText)
	if err == nil && port == 0 {
		err = errors.New("port must be 1-65535, got 0")
	}
	if err != nil {
		return fmt.Errorf("%q: %w", addr, err)
	}
	return nil
}

// parsePort reads a decimal port from 0 to 65535; service names such as
// "http" are refused, so the port never depends on /etc/services.
func parsePort(s string) (int, error) {
	if s == "" || strings.TrimLeft(s, "0123456789") != "" || len(s) > 5 {
		return 0, fmt.Errorf("invalid port %q", s)
	}
	p, _ := strconv.Atoi(s)
	if p > 65535 {
		return 0, fmt.Errorf("port must be 0-65535, got %d", p)
	}
	return p, nil
}
