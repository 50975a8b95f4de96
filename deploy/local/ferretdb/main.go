// Command ferretdb-local runs FerretDB v1 (MongoDB wire protocol) embedded as a library,
// with the SQLite backend, for local development and tests.
//
// FerretDB's own cmd/ferretdb cannot be built with `go install` (it panics at start because
// its generated version file is missing), so the server is embedded through the public
// github.com/FerretDB/FerretDB/ferretdb package instead.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:27017", "TCP address to listen on")
	dataDir := flag.String("data-dir", "data", "directory for the SQLite databases (created if missing)")
	logLevel := flag.String("log-level", "info", "log level: debug, info, warn, error")
	probe := flag.String("probe", "", "instead of serving, check that the server at this MongoDB URI answers (ping and listDatabases) and exit")
	flag.Parse()

	if *probe != "" {
		if err := runProbe(*probe); err != nil {
			fmt.Fprintf(os.Stderr, "probe %s: %v\n", *probe, err)
			os.Exit(1)
		}
		return
	}

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(os.Stderr, "invalid -log-level %q: %v\n", *logLevel, err)
		os.Exit(2)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	dir, err := filepath.Abs(*dataDir)
	if err != nil {
		logger.Error("cannot resolve data directory", "dir", *dataDir, "err", err)
		os.Exit(1)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		logger.Error("cannot create data directory", "dir", dir, "err", err)
		os.Exit(1)
	}

	// The SQLite backend takes a directory URI that must end with a slash.
	sqliteURL := (&url.URL{Scheme: "file", Path: dir + "/"}).String()

	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: *listen},
		Logger:    logger,
		Handler:   "sqlite",
		SQLiteURL: sqliteURL,
	})
	if err != nil {
		logger.Error("cannot start FerretDB", "err", err)
		os.Exit(1)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	logger.Info("FerretDB listening", "uri", f.MongoDBURI(), "sqlite", sqliteURL)

	if err := f.Run(ctx); err != nil {
		logger.Error("FerretDB stopped with an error", "err", err)
		os.Exit(1)
	}

	logger.Info("FerretDB stopped")
}

// runProbe connects with the official MongoDB Go driver and runs ping and listDatabases,
// which proves that the wire protocol and the storage backend both answer.
func runProbe(uri string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	opts := options.Client().ApplyURI(uri).SetServerSelectionTimeout(3 * time.Second)
	client, err := mongo.Connect(ctx, opts)
	if err != nil {
		return err
	}
	defer client.Disconnect(context.Background()) //nolint:errcheck // best effort

	if err := client.Database("admin").RunCommand(ctx, bson.D{{Key: "ping", Value: 1}}).Err(); err != nil {
		return err
	}
	_, err = client.ListDatabaseNames(ctx, bson.D{})
	return err
}
