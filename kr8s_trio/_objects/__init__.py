"""Resource objects: `APIObject` (the raw dict plus verbs), the built-in kinds grouped by API
group, the class registry (`get_class`, `new_class`) and the factories. The public names are
re-exported by `kr8s_trio.objects`."""
