module github.com/itfit/itfit

go 1.26.0

require (
	github.com/golang-jwt/jwt/v5 v5.3.1 // indirect
	github.com/infracloudio/msbotbuilder-go v0.2.5 // indirect
	go.yaml.in/yaml/v2 v2.4.2 // indirect
	golang.org/x/sync v0.25.0 // indirect
	sigs.k8s.io/yaml v1.6.0 // indirect
)
