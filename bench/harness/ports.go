package harness

import (
	"fmt"
	"net"
)

// freePort finds a port free on 127.0.0.1 for both TCP and UDP, since a TLS
// listener's HTTP/3 twin takes the same port on UDP. The port is released
// before the server binds it; on a machine running only the bench nothing
// takes it in between.
func freePort() (string, error) {
	for range 20 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", fmt.Errorf("free port: %w", err)
		}
		addr := ln.Addr().String()
		ln.Close()
		pc, err := net.ListenPacket("udp", addr)
		if err != nil {
			continue
		}
		pc.Close()
		return addr, nil
	}
	return "", fmt.Errorf("free port: no port free on both tcp and udp")
}
