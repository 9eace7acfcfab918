// Command sextant-scheduler is the upstream kube-scheduler with the Sextant plugin registered.
// Its flags, configuration file and behaviour are upstream's; a profile that enables the
// Sextant plugin (see config/sextant-scheduler-config.yaml) forwards its scheduling cycles to
// the Sextant engine.
package main

import (
	"os"

	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register" // JSON log format, as upstream's binary
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
	"k8s.io/kubernetes/cmd/kube-scheduler/app"

	"sextant.io/plugin-shim/pkg/sextant"
)

func main() {
	command := app.NewSchedulerCommand(app.WithPlugin(sextant.Name, sextant.New))
	os.Exit(cli.Run(command))
}
