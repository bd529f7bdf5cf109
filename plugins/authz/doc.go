// Package authz enforces Istio's AuthorizationPolicy at the gateway: it reads
// policy documents unchanged (security.istio.io/v1 and v1beta1), validates
// them as istiod does, with Istio's wording, compiles them at load time into
// per-workload sets, and decides each request in Istio's order (CUSTOM, then
// DENY, then ALLOW; AUDIT and dry-run policies only mark the request), naming
// the policy and rule that decided.
//
// A workload is what a route forwards to: an upstream's namespace and labels.
// A policy applies to the workloads of its own namespace whose labels contain
// its selector's matchLabels (all of them without a selector), and a policy in
// the root namespace to every workload.
//
// The documents' kind RequestAuthentication is kept, undecoded, for the jwt
// plugin (Set.RequestAuthentications).
package authz
