// Package upstream is the gateway's side of an upstream: a pool of endpoints
// that requests are balanced over, kept healthy, retried and limited, as
// Envoy's clusters are.
//
// A Pool is built from one routes.UpstreamSpec by New, which starts nothing;
// Start begins the DNS re-resolution of endpoint names and the active health
// checks, and Close ends them. RoundTrip sends one request: it admits it
// against the circuit limits, picks an endpoint with the balancer among the
// eligible ones, and retries per the route's policy within the upstream's
// retry budget.
//
// Semantics, where the routes file leaves them open:
//
//   - An endpoint is eligible when its active health check has not marked it
//     down and outlier detection has not ejected it. A new endpoint starts
//     eligible ("unknown" counts as healthy), so a pool serves at once and a
//     new pod gets traffic before its first probe; unhealthy_threshold
//     failed probes in a row mark it down, healthy_threshold good ones up.
//     Every failed probe counts toward the threshold, unlike Envoy, which
//     marks an endpoint down at once on an unexpected status.
//   - There is no panic mode: with no eligible endpoint a request fails with
//     503 and flag UH.
//   - Names are resolved every dns_refresh. IPv4 answers are used when there
//     are any, else IPv6 (Envoy's V4_PREFERRED). A name that does not exist
//     leaves no endpoint; any other DNS error keeps the previous answer.
//     Either is counted by reason (Observer.ResolveError), shown with its
//     error on /upstreams, and warned about at most once a minute per name,
//     with the count of failed lookups since the last warning.
//     Health and ejection state belong to an address and survive a refresh
//     that keeps it; requests in flight on a removed address finish.
//   - Outlier detection counts, per endpoint, 5xx answers and local failures
//     (failed connects, resets, per-try timeouts) for consecutive_5xx, as
//     Envoy does, and local failures alone for consecutive_connect_failures.
//     The n-th ejection of an endpoint lasts n × base_ejection_time, capped
//     at max_ejection_time; n falls by one for each base_ejection_time the
//     endpoint then stays in. An ejection that would put more than
//     max_ejection_percent of the endpoints out, or the last one (unless the
//     pool has one endpoint and the percent is 100), does not happen:
//     unlike Envoy, which ejects at least one endpoint whatever the percent.
//   - max_requests bounds the requests in progress, from admission to the
//     end of the response body. net/http does not expose requests waiting
//     for a connection, so max_pending bounds its nearest measure, the
//     connections being dialled: the transport dials one for each request
//     that finds no idle connection. Both answer 503 with flag UO at once.
//   - Retries happen only for idempotent methods (GET, HEAD, OPTIONS, PUT,
//     DELETE, TRACE) unless retry_non_idempotent, only when the request body
//     can be sent again (no body, req.GetBody, or a body of known length up
//     to 64 KiB, which is then buffered; a streaming upload is never
//     retried), and never after a response was returned: a response that
//     RoundTrip returns is final. A retry goes to another endpoint when one
//     is eligible, after a full-jitter backoff. The retry budget allows
//     max(min_retry_concurrency, percent × requests in progress) retries in
//     progress at once; a retry counts from its decision to the end of its
//     try.
//   - What an upstream answers is bounded, with Envoy's defaults: a header of
//     at most 60 KiB (MaxResponseHeaderBytes) and 100 field values
//     (MaxResponseHeaders), and a status from 100 to 599. Past them a try
//     fails with 502 and flag UPE, details
//     upstream_reset_before_response_started{protocol_error}, as do answers
//     the transports cannot parse; the connection is not reused. The
//     gateway bounds the 1xx responses it relays (MaxInformational).
//   - A failed try is answered as Envoy's router answers it: 503 for a
//     connect that failed (UF), a connection that ended (UC) or a stream the
//     upstream reset (UR), 502 for a protocol error (UPE), 504 for a timeout
//     (UT), with Envoy's local reply and %RESPONSE_CODE_DETAILS%
//     (upstream_reset_before_response_started{<reset reason>|<transport
//     failure reason>}). The transport failure reason of a failed connect is
//     Envoy's wording: "delayed connect error: Connection refused", or the
//     BoringSSL error of a TLS failure ("TLS_error:|268435581:SSL
//     routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED:TLS_error_end").
//   - Flags follow Envoy. When the retries are exhausted, the last try's
//     outcome stands with URX added: a retried status is passed through
//     with URX, a failure reports its own flag too, which Envoy's access
//     log prints as "UF,URX". A retry the budget refuses adds UO the same
//     way.
package upstream
