/*
 * devinst.c: the device instances of a configuration (struct rv_config's
 * dev[]): appended by the CLI as it parses each device option
 * (devinst_parse), checked before KVM is opened, created in order during
 * setup, destroyed newest first at exit. Needs no device table: it calls
 * each instance's own hooks, so the unit tests' fake VMs use it as is.
 *
 * Exported (contracts in devinst.h): devinst_parse, devinst_given,
 * devinst_check, devinst_create, devinst_destroy, devinst_inherited_fds,
 * devinst_free.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "device.h"
#include "devinst.h"

/* devinst_count: instances of `ops` in the configuration so far. */
static unsigned devinst_count(const struct rv_config *cfg, const struct device_ops *ops)
{
	unsigned n = 0;

	for (unsigned i = 0; i < cfg->nr_dev; i++)
		n += cfg->dev[i].ops == ops;
	return n;
}

int devinst_parse(struct rv_config *cfg, const struct device_ops *ops, const char *spec,
    char *err, size_t errlen)
{
	unsigned index = devinst_count(cfg, ops);
	unsigned max = ops->option ? ops->option->max : 1;
	void *conf = NULL;
	int r;

	if (index >= max || cfg->nr_dev == RV_MAX_INSTANCES) {
		if (ops->option)
			snprintf(err, errlen, "more than %u %s", max, ops->option->noun);
		else
			snprintf(err, errlen, "more than %u instances of %s", max, ops->name);
		return -E2BIG;
	}
	if (ops->parse) {
		r = ops->parse(spec, index, &conf, err, errlen);
		if (r == DEVICE_NONE) {
			/* Valid, and no instance: remembered so that no default comes back. */
			free(conf);
			if (cfg->nr_off == RV_MAX_INSTANCES) {
				snprintf(err, errlen, "more than %u devices turned off", RV_MAX_INSTANCES);
				return -E2BIG;
			}
			cfg->off[cfg->nr_off++] = ops;
			return 0;
		}
		if (r)
			return r;
	}
	cfg->dev[cfg->nr_dev++] = (struct dev_instance){
		.ops = ops, .spec = spec, .index = index, .conf = conf,
	};
	return 0;
}

bool devinst_given(const struct rv_config *cfg, const struct device_ops *ops)
{
	for (unsigned i = 0; i < cfg->nr_off; i++)
		if (cfg->off[i] == ops)
			return true;
	return devinst_count(cfg, ops) > 0;
}

/* devinst_name: "virtio-blk 'a.img'" or "serial", for messages. */
static const char *devinst_name(const struct dev_instance *d, char *buf, size_t len)
{
	if (d->spec)
		snprintf(buf, len, "%s '%.64s'", d->ops->name, d->spec);
	else
		snprintf(buf, len, "%s", d->ops->name);
	return buf;
}

int devinst_check(const struct rv_config *cfg, char *err, size_t errlen)
{
	for (unsigned i = 0; i < cfg->nr_dev; i++) {
		const struct dev_instance *d = &cfg->dev[i];
		int r = d->ops->check ? d->ops->check(d->conf, err, errlen) : 0;

		if (r)
			return r;
	}
	return 0;
}

int devinst_create(struct vm *vm, struct rv_config *cfg, char *err, size_t errlen)
{
	char why[384], name[96];

	for (unsigned i = 0; i < cfg->nr_dev; i++) {
		struct dev_instance *d = &cfg->dev[i];
		int r;

		why[0] = '\0';
		r = d->ops->create(vm, d->conf, &d->state, why, sizeof(why));
		if (r) {
			d->state = NULL;
			snprintf(err, errlen, "cannot create %s: %s", devinst_name(d, name, sizeof(name)),
			    why[0] ? why : strerror(-r));
			return r;
		}
	}
	return 0;
}

int devinst_destroy(struct vm *vm, struct rv_config *cfg)
{
	int ret = 0;

	for (unsigned i = cfg->nr_dev; i-- > 0; ) {
		struct dev_instance *d = &cfg->dev[i];
		int r;

		if (!d->state)
			continue;
		r = d->ops->destroy(vm, d->state);
		d->state = NULL;
		if (r && !ret)
			ret = r;
	}
	return ret;
}

unsigned devinst_inherited_fds(const struct rv_config *cfg, int *fds, unsigned max)
{
	unsigned n = 0;

	for (unsigned i = 0; i < cfg->nr_dev; i++) {
		const struct dev_instance *d = &cfg->dev[i];
		int mine[4];
		unsigned k;

		if (!d->ops->inherited_fds)
			continue;
		k = d->ops->inherited_fds(d->conf, mine, 4);
		for (unsigned j = 0; j < k && j < 4; j++, n++)
			if (n < max)
				fds[n] = mine[j];
	}
	return n;
}

void devinst_free(struct rv_config *cfg)
{
	for (unsigned i = 0; i < cfg->nr_dev; i++) {
		free(cfg->dev[i].conf);
		cfg->dev[i].conf = NULL;
	}
	cfg->nr_dev = 0;
	cfg->nr_off = 0;
}
