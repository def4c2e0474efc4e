# syntax=docker/dockerfile:1
#
# itfit bot image: a static Go binary on distroless, running as nonroot.
#
#   docker build --build-arg VERSION=$(git describe --tags --always --dirty) \
#                --build-arg COMMIT=$(git rev-parse --short HEAD) -t itfit:dev .
#
# The build step is scripts/build, the same command CI and developers run.

FROM golang:1.26-bookworm AS build
WORKDIR /src

# Dependencies first, so this layer is cached until go.mod/go.sum change.
# go.sum may not exist while the module has no dependencies, hence the glob.
COPY go.mod go.sum* ./
RUN go mod download

COPY . .

ARG VERSION=""
ARG COMMIT=""
RUN VERSION=$VERSION COMMIT=$COMMIT OUT=/out/bot scripts/build

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/bot /bot
USER nonroot:nonroot
EXPOSE 3000
ENTRYPOINT ["/bot"]
CMD ["serve"]
